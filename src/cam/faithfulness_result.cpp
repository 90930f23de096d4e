#include "amva/cam/faithfulness_result.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "amva/error.hpp"

namespace amva::cam {

const OrderScore& FaithfulnessResult::score(const std::string& order, const std::string& fill) const {
  for (const auto& s : scores) {
    if (s.order == order && s.fill == fill) return s;
  }
  throw Error(ErrorCode::NotFound, fmt::format("no faithfulness score for {} under the {} fill", order, fill));
}

const OrderDifference& FaithfulnessResult::difference(const std::string& a, const std::string& b,
                                                      const std::string& fill, const std::string& game) const {
  for (const auto& d : differences) {
    if (d.a == a && d.b == b && d.fill == fill && d.game == game) return d;
  }
  throw Error(ErrorCode::NotFound, fmt::format("no difference {} - {} ({}, {})", a, b, fill, game));
}

std::string FaithfulnessResult::versus(const std::string& cam, const std::string& other,
                                       const std::string& fill) const {
  int better = 0, worse = 0;
  for (const std::string game : kGames) {
    const bool forward = std::find(orders.begin(), orders.end(), cam) < std::find(orders.begin(), orders.end(), other);
    const auto& d = forward ? difference(cam, other, fill, game) : difference(other, cam, fill, game);
    if (forward ? d.a_better() : d.b_better()) ++better;
    if (forward ? d.b_better() : d.a_better()) ++worse;
  }
  if (better == 2) return "better";
  if (worse == 2) return "worse";
  if (better + worse == 0) return "no difference";
  return better > 0 && worse > 0 ? "mixed" : (better > 0 ? "partly better" : "partly worse");
}

std::vector<std::string> FaithfulnessResult::ranking(const std::string& fill) const {
  std::vector<std::string> ranked = cams;
  const auto net = [&](const std::string& cam) {
    const auto& s = score(cam, fill);
    return s.insertion.mean - s.deletion.mean;
  };
  std::stable_sort(ranked.begin(), ranked.end(), [&](const auto& a, const auto& b) { return net(a) > net(b); });
  return ranked;
}

bool FaithfulnessResult::is_control(const std::string& order) const {
  return std::find(cams.begin(), cams.end(), order) == cams.end();
}

int FaithfulnessResult::forwards_per_face_and_order() const {
  return forwards_per_face / static_cast<int>(std::max<std::size_t>(1, orders.size()));
}

FaithfulnessResult::RankingAgreement FaithfulnessResult::ranking_agreement() const {
  RankingAgreement agreement;
  agreement.agrees = fills.size() < 2 || ranking(fills.front()) == ranking(fills.back());
  if (fills.size() < 2 || cams.size() < 2) return agreement;
  const auto first = ranking(fills.front()), last = ranking(fills.back());
  const auto rank_in = [](const std::vector<std::string>& order, const std::string& cam) {
    return std::find(order.begin(), order.end(), cam) - order.begin();
  };
  std::size_t pairs = 0;
  for (std::size_t a = 0; a < cams.size(); ++a) {
    for (std::size_t b = a + 1; b < cams.size(); ++b, ++pairs) {
      if ((rank_in(first, cams[a]) < rank_in(first, cams[b])) != (rank_in(last, cams[a]) < rank_in(last, cams[b]))) {
        agreement.swapped.emplace_back(cams[a], cams[b]);
      }
    }
  }
  agreement.kendall_tau = 1 - 2.0 * static_cast<double>(agreement.swapped.size()) / static_cast<double>(pairs);
  return agreement;
}

}  // namespace amva::cam
