#include <amva/face/alignment.hpp>
#include <amva/version.hpp>
#include <iostream>

int main() {
  std::cout << "amva " << amva::version() << ", template nose at " << amva::face::arcface_template()[2] << "\n";
  return amva::face::arcface_template()[2].x > 50 ? 0 : 1;
}
