#include "amva/model/graph_inspection.hpp"

#include <fmt/format.h>

#include <set>

#include "amva/error.hpp"

namespace amva::model {
namespace {

// An output gives one vector per image when its shape is N x D (or N x D x 1 x 1) with D at
// least 32: smaller outputs are logits or scores, not an identity embedding.
bool is_embedding_shape(const OnnxTensorInfo& t) {
  if (t.dims.size() != 2 && t.dims.size() != 4) return false;
  if (t.dims.size() == 4 && (t.dims[2] != 1 || t.dims[3] != 1)) return false;
  return t.dims[1] < 0 || t.dims[1] >= 32;
}

LayerCandidate candidate(const OnnxGraph& graph, const std::string& tensor, const std::string& embedding) {
  LayerCandidate c{tensor, "", ""};
  if (const auto p = graph.producer(tensor)) c.op_type = graph.nodes()[*p].op_type;
  try {
    if (const auto node = graph.first_non_affine(tensor, graph.skip_reshapes(embedding))) {
      c.non_affine_op = fmt::format("{} ({})", node->op_type, node->name.empty() ? node->outputs.front() : node->name);
    }
  } catch (const Error& e) {
    c.non_affine_op = e.what();
  }
  return c;
}

// Layers before `target`, nearest first, found as find_target_layer finds the target: walking
// back from the target's input to the next non-linearity or join, and so on.
std::vector<LayerCandidate> layers_before(const OnnxGraph& graph, const std::string& target,
                                          const std::string& embedding, int count) {
  std::vector<LayerCandidate> found;
  std::string current = target;
  std::set<std::string> seen{target};
  while (static_cast<int>(found.size()) < count) {
    const auto p = graph.producer(current);
    if (!p) break;
    // Back towards the image along the node's first data input, as find_target_layer walks.
    const auto data = graph.data_inputs(graph.nodes()[*p]);
    if (data.empty() || !graph.producer(data.front())) break;
    std::string next;
    try {
      next = graph.find_target_layer(data.front());
    } catch (const Error&) {
      break;  // only affine operations left between here and the image
    }
    if (!seen.insert(next).second) break;
    found.push_back(candidate(graph, next, embedding));
    current = next;
  }
  return found;
}

}  // namespace

GraphInspection inspect_graph(const std::filesystem::path& file, int alternatives) {
  const auto graph = OnnxGraph::load(file);
  GraphInspection g;
  g.file = file;
  std::vector<std::string> inputs;
  for (const auto& in : graph.inputs()) {
    inputs.push_back(in.name);
    if (in.dims.size() == 4 && g.input.name.empty()) g.input = in;
  }
  if (g.input.name.empty()) {
    throw Error(ErrorCode::Model, fmt::format("{}: no 4-d image input (N x 3 x H x W) among the inputs: {}",
                                              file.string(), fmt::join(inputs, ", ")));
  }
  g.dynamic_batch = g.input.dims[0] < 0;
  if (g.input.dims[1] > 0 && g.input.dims[1] != 3) {
    throw Error(ErrorCode::Model, fmt::format("{}: input '{}' has {} channels; amva feeds colour faces (3)",
                                              file.string(), g.input.name, g.input.dims[1]));
  }
  if (g.input.dims[2] > 0) g.input_height = static_cast<int>(g.input.dims[2]);
  if (g.input.dims[3] > 0) g.input_width = static_cast<int>(g.input.dims[3]);
  std::vector<std::string> outputs;
  for (const auto& out : graph.outputs()) {
    outputs.push_back(out.name);
    if (is_embedding_shape(out)) g.embedding_outputs.push_back(out);
  }
  if (g.embedding_outputs.empty()) {
    throw Error(ErrorCode::Model, fmt::format("{}: no output gives one vector per image (N x D, D >= 32) among: {}",
                                              file.string(), fmt::join(outputs, ", ")));
  }
  g.embedding = g.embedding_outputs.front().name;
  try {
    g.target = candidate(graph, graph.find_target_layer(g.embedding), g.embedding);
    g.alternatives = layers_before(graph, g.target->tensor, g.embedding, alternatives);
  } catch (const Error& e) {
    g.target_problem = e.what();
  }
  return g;
}

}  // namespace amva::model
