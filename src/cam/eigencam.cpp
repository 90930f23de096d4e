// Eigen-CAM: the activations (positions x channels), centred per channel, projected on their
// first principal direction, then ReLU, as pytorch-grad-cam computes it. The SVD leaves the
// sign of that direction open; amva fixes it so that the projection correlates positively
// with the channel sum of the activations, which makes the map deterministic.
#include <Eigen/SVD>

#include "methods.hpp"

namespace amva::cam {
namespace {

class EigenCam final : public CamMethod {
 public:
  [[nodiscard]] std::string name() const override { return "eigencam"; }
  [[nodiscard]] std::string default_target() const override { return "none"; }

 protected:
  [[nodiscard]] cv::Mat combine(const CamInput& in, const float*) const override {
    const int p = in.shape.positions();
    const int c = in.shape.channels;
    // activations are C x P in memory: read them as the P x C matrix the method works on.
    const Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>> a(in.activations, p,
                                                                                                    c);
    Eigen::MatrixXd centred = a.cast<double>();
    centred.rowwise() -= centred.colwise().mean();
    Eigen::BDCSVD<Eigen::MatrixXd> svd(centred, Eigen::ComputeThinV);
    Eigen::VectorXd projection = centred * svd.matrixV().col(0);
    const Eigen::VectorXd channel_sum = a.cast<double>().rowwise().sum();
    if (projection.dot(channel_sum.array().matrix() - Eigen::VectorXd::Constant(p, channel_sum.mean())) < 0) {
      projection = -projection;
    }
    cv::Mat cam(in.shape.height, in.shape.width, CV_32F);
    for (int i = 0; i < p; ++i)
      cam.ptr<float>()[i] = static_cast<float>(in.before_relu ? projection[i] : std::max(0.0, projection[i]));
    return cam;
  }
};

}  // namespace

std::unique_ptr<CamMethod> make_eigencam() {
  return std::make_unique<EigenCam>();
}

}  // namespace amva::cam
