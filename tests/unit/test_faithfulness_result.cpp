// What amva faithfulness says, from its typed result: the verdicts against the controls, the
// rankings per fill and how alike they are, and the terminal's and the report's words, on a
// result made by hand whose two fills rank the two methods in opposite orders.
#include <gtest/gtest.h>

#include <cmath>

#include "amva/cam/faithfulness_result.hpp"
#include "amva/pipeline/faithfulness.hpp"
#include "amva/report/faithfulness_section.hpp"

namespace {
using namespace amva;

cam::OrderScore score(const std::string& order, const std::string& fill, double deletion, double insertion,
                      bool with_interval) {
  const double half = with_interval ? 0.05 : std::nan("");
  return {order,
          fill,
          {deletion, deletion - half, deletion + half},
          {insertion, insertion - half, insertion + half},
          {1.0, 0.5, deletion},
          {0.0, 0.5, insertion}};
}

// Two methods: `a` nets 0.5 under blur and 0.1 under road, `b` 0.3 and 0.5, so blur ranks a > b
// and road b > a. Against the centre prior a is better in both games, b worse; against the
// random order neither differs beyond chance.
cam::FaithfulnessResult opposite_rankings() {
  cam::FaithfulnessResult r;
  r.cams = {"a", "b"};
  r.orders = {"a", "b", cam::kRandomOrder, cam::kCentreOrder};
  r.fills = {"blur", "road"};
  r.faces = 12;
  r.identities = 4;
  r.bootstrap_unit = "identity";
  r.steps = 2;
  r.confidence = 0.95;
  r.forwards_per_face = 24;
  r.scores = {score("a", "blur", 0.3, 0.8, true),
              score("b", "blur", 0.4, 0.7, true),
              score(cam::kRandomOrder, "blur", 0.7, 0.7, false),
              score(cam::kCentreOrder, "blur", 0.35, 0.75, false),
              score("a", "road", 0.5, 0.6, true),
              score("b", "road", 0.3, 0.8, true),
              score(cam::kRandomOrder, "road", 0.7, 0.7, false),
              score(cam::kCentreOrder, "road", 0.35, 0.75, false)};
  for (const std::string fill : {"blur", "road"}) {
    for (const std::string game : {"deletion", "insertion"}) {
      const double sign = game == "deletion" ? -1 : 1;  // the direction in which a difference is better
      r.differences.push_back({"a", cam::kCentreOrder, fill, game, {sign * 0.1, sign * 0.1 - 0.02, sign * 0.1 + 0.02}});
      r.differences.push_back(
          {"b", cam::kCentreOrder, fill, game, {-sign * 0.1, -sign * 0.1 - 0.02, -sign * 0.1 + 0.02}});
      r.differences.push_back({"a", cam::kRandomOrder, fill, game, {0, -0.1, 0.1}});
      r.differences.push_back({"b", cam::kRandomOrder, fill, game, {0, -0.1, 0.1}});
    }
  }
  return r;
}

TEST(FaithfulnessResult, VerdictsRankingsAndTheirAgreement) {
  const auto r = opposite_rankings();
  EXPECT_EQ(r.versus("a", cam::kCentreOrder, "road"), "better");
  EXPECT_EQ(r.versus("b", cam::kCentreOrder, "blur"), "worse");
  EXPECT_EQ(r.versus("a", cam::kRandomOrder, "blur"), "no difference");
  EXPECT_EQ(r.ranking("blur"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(r.ranking("road"), (std::vector<std::string>{"b", "a"}));
  const auto agreement = r.ranking_agreement();
  EXPECT_FALSE(agreement.agrees);
  EXPECT_EQ(agreement.kendall_tau, -1.0);  // the one pair swapped: 1 - 2 * 1 / 1
  ASSERT_EQ(agreement.swapped.size(), 1u);
  EXPECT_EQ(agreement.swapped[0], std::make_pair(std::string("a"), std::string("b")));
  EXPECT_TRUE(r.is_control(cam::kCentreOrder));
  EXPECT_FALSE(r.is_control("b"));
  EXPECT_EQ(r.forwards_per_face_and_order(), 6);

  // faithfulness.json says the same.
  const auto json = pipeline::faithfulness_json(r);
  EXPECT_EQ(json["verdicts"]["a"]["road"]["versus_centre"], "better");
  EXPECT_EQ(json["ranking"]["road"], nlohmann::json({"b", "a"}));
  EXPECT_EQ(json["ranking_kendall_tau"], -1.0);
  EXPECT_EQ(json["ranking_swapped_pairs"], nlohmann::json::array({{"a", "b"}}));
  EXPECT_EQ(json["ranking_agrees_across_fills"], false);
  EXPECT_EQ(json["forwards_per_face_and_order"], 6);
}

TEST(FaithfulnessResult, TheTerminalAndTheReportSayIt) {
  const auto r = opposite_rankings();
  const auto lines = report::faithfulness_lines(r);
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0],
            "a: deletion 0.300 [0.250, 0.350] / 0.500 [0.450, 0.550], insertion 0.800 [0.750, 0.850] / 0.600 [0.550, "
            "0.650] (blur / road); against the centre prior better / better, against random no difference / no "
            "difference");
  EXPECT_EQ(lines[2], "random (control): deletion 0.700 / 0.700, insertion 0.700 / 0.700");
  EXPECT_EQ(lines[4],
            "ranking by insertion - deletion (blur: a > b; road: b > a); the fills order all but 1 of the pairs of "
            "methods alike (Kendall tau -1.00; swapped: a and b)");
  EXPECT_EQ(
      report::faithfulness_finding(r),
      "faithfulness on 12 faces, against the centre prior (blur / road fill): a better / better; b worse / worse");
  EXPECT_EQ(report::faithfulness_brief(r, "a"),
            "deletion 0.300 / 0.500, insertion 0.800 / 0.600; against the centre prior better / better");
  EXPECT_EQ(report::faithfulness_brief(r, cam::kRandomOrder), "") << "a control is not judged";

  const auto html = report::faithfulness_section(r);
  EXPECT_NE(html.find("ranks the pixels of 12 faces of 4 people"), std::string::npos);
  EXPECT_NE(html.find("24 forward passes per face (3 per order and fill)"), std::string::npos);
  EXPECT_NE(html.find("<td class=l>centre (control)</td>"), std::string::npos);
  EXPECT_NE(report::faithfulness_curves_svg(r).find("stroke-dasharray=\"5,3\"><title>random"), std::string::npos)
      << "the controls' curves are dashed";
  EXPECT_NE(report::faithfulness_section(std::nullopt).find("Not measured"), std::string::npos);
}

}  // namespace
