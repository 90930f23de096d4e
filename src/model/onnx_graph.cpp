#include "amva/model/onnx_graph.hpp"

#include <fmt/format.h>
#include <onnx/onnx_pb.h>

#include <fstream>
#include <set>
#include <unordered_map>

#include "amva/error.hpp"
#include "amva/io/input_file.hpp"

namespace amva::model {

struct OnnxGraph::Impl {
  onnx::ModelProto proto;
  std::filesystem::path file;
  std::vector<OnnxTensorInfo> inputs;
  std::vector<OnnxTensorInfo> outputs;
  std::vector<OnnxNodeInfo> nodes;
  std::unordered_map<std::string, std::size_t> producers;
  std::set<std::string> initializers;
  int folded_identities = 0;
};

namespace {
OnnxTensorInfo tensor_info(const onnx::ValueInfoProto& v) {
  OnnxTensorInfo t{v.name(), {}};
  for (const auto& d : v.type().tensor_type().shape().dim()) {
    t.dims.push_back(d.has_dim_value() && d.dim_value() > 0 ? d.dim_value() : -1);
  }
  return t;
}

// torch.onnx.export shares equal initializers (two PReLU slopes still at their initial 0.25,
// two BatchNorms of ones) and reads the copies through Identity nodes, which OpenCV 4.6's
// importer cannot load ("Identity ... getMemoryShapes"). Each such node becomes a copy of the
// initializer under the node's output name: the same values, no node. Returns the count.
int fold_initializer_identities(onnx::GraphProto& g) {
  std::unordered_map<std::string, int> initializer_index;
  for (int i = 0; i < g.initializer_size(); ++i) initializer_index[g.initializer(i).name()] = i;
  google::protobuf::RepeatedPtrField<onnx::NodeProto> kept;
  int folded = 0;
  for (const auto& n : g.node()) {
    const auto it = n.op_type() == "Identity" && n.input_size() == 1 && n.output_size() == 1
                        ? initializer_index.find(n.input(0))
                        : initializer_index.end();
    if (it == initializer_index.end()) {
      *kept.Add() = n;
      continue;
    }
    onnx::TensorProto copy = g.initializer(it->second);
    copy.set_name(n.output(0));
    *g.add_initializer() = std::move(copy);
    ++folded;
  }
  if (folded) g.mutable_node()->Swap(&kept);
  return folded;
}
}  // namespace

OnnxGraph OnnxGraph::load(const std::filesystem::path& file) {
  auto in = io::open_input(file, "model file", std::ios::binary);
  onnx::ModelProto proto;
  if (!proto.ParseFromIstream(&in) || !proto.has_graph() || proto.graph().node_size() == 0) {
    throw Error(ErrorCode::Model, fmt::format("{}: not a valid ONNX model", file.string()));
  }
  auto impl = std::make_unique<Impl>();
  impl->file = file;
  impl->folded_identities = fold_initializer_identities(*proto.mutable_graph());
  impl->proto = std::move(proto);
  const auto& g = impl->proto.graph();
  for (const auto& init : g.initializer()) impl->initializers.insert(init.name());
  for (const auto& v : g.input()) {
    if (!impl->initializers.count(v.name())) impl->inputs.push_back(tensor_info(v));
  }
  for (const auto& v : g.output()) impl->outputs.push_back(tensor_info(v));
  for (const auto& n : g.node()) {
    OnnxNodeInfo node{
        n.name(), n.op_type(), {n.input().begin(), n.input().end()}, {n.output().begin(), n.output().end()}};
    for (const auto& out : node.outputs) impl->producers[out] = impl->nodes.size();
    impl->nodes.push_back(std::move(node));
  }
  return OnnxGraph(std::move(impl));
}

OnnxGraph::OnnxGraph(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OnnxGraph::~OnnxGraph() = default;
OnnxGraph::OnnxGraph(OnnxGraph&&) noexcept = default;
OnnxGraph& OnnxGraph::operator=(OnnxGraph&&) noexcept = default;

const std::vector<OnnxTensorInfo>& OnnxGraph::inputs() const {
  return impl_->inputs;
}
const std::vector<OnnxTensorInfo>& OnnxGraph::outputs() const {
  return impl_->outputs;
}
const std::vector<OnnxNodeInfo>& OnnxGraph::nodes() const {
  return impl_->nodes;
}
const std::filesystem::path& OnnxGraph::file() const {
  return impl_->file;
}

std::optional<std::string> OnnxGraph::rewritten_model() const {
  if (!impl_->folded_identities) return std::nullopt;
  std::string bytes;
  impl_->proto.SerializeToString(&bytes);
  return bytes;
}

std::optional<std::size_t> OnnxGraph::producer(const std::string& tensor) const {
  auto it = impl_->producers.find(tensor);
  if (it == impl_->producers.end()) return std::nullopt;
  return it->second;
}

bool OnnxGraph::is_initializer(const std::string& tensor) const {
  return impl_->initializers.count(tensor) > 0;
}

std::vector<std::string> OnnxGraph::data_inputs(const OnnxNodeInfo& node) const {
  std::vector<std::string> data;
  for (const auto& in : node.inputs) {
    if (in.empty() || is_initializer(in)) continue;
    if (const auto q = producer(in); q && impl_->nodes[*q].op_type == "Constant") continue;
    data.push_back(in);
  }
  return data;
}

std::string OnnxGraph::skip_reshapes(const std::string& tensor) const {
  static const std::set<std::string> kReshapes = {"Reshape", "Flatten", "Squeeze", "Identity"};
  std::string current = tensor;
  while (auto p = producer(current)) {
    const auto& node = impl_->nodes[*p];
    if (!kReshapes.count(node.op_type) || node.inputs.empty()) break;
    current = node.inputs.front();
  }
  return current;
}

namespace {
// Operations that are affine in their data input; Mul and Div only when the other operand
// does not depend on the head's input (checked separately).
const std::set<std::string>& affine_ops() {
  static const std::set<std::string> kOps = {"Conv",
                                             "ConvTranspose",
                                             "BatchNormalization",
                                             "Gemm",
                                             "MatMul",
                                             "Add",
                                             "Sub",
                                             "Mul",
                                             "Div",
                                             "Flatten",
                                             "Reshape",
                                             "Identity",
                                             "Squeeze",
                                             "Unsqueeze",
                                             "Transpose",
                                             "Dropout",
                                             "GlobalAveragePool",
                                             "AveragePool",
                                             "Pad",
                                             "Constant",
                                             "Shape",
                                             "Gather",
                                             "Concat",
                                             "Cast"};
  return kOps;
}
}  // namespace

std::string OnnxGraph::find_target_layer(const std::string& embedding) const {
  static const std::set<std::string> kJoins = {"Add", "Sub", "Sum", "Concat"};
  std::string current = skip_reshapes(embedding);
  while (auto p = producer(current)) {
    const auto& node = impl_->nodes[*p];
    if (!affine_ops().count(node.op_type) || node.op_type == "Shape" || node.op_type == "Gather") {
      return node.outputs.front();
    }
    const auto data = data_inputs(node);
    // Where two computed paths join (the residual Add that ends an iResNet or ResNet block),
    // the head is a function of this output and of neither input alone: the block's output is
    // the target, as pytorch-grad-cam's ResNet examples target the last block.
    if (data.size() > 1 && kJoins.count(node.op_type)) return node.outputs.front();
    if (data.empty()) break;
    current = data.front();
  }
  throw Error(ErrorCode::Model, fmt::format("{}: no non-linearity before the embedding '{}'; give --layer",
                                            impl_->file.string(), embedding));
}

std::vector<std::size_t> OnnxGraph::head_nodes(const std::string& from, const std::string& to) const {
  std::set<std::size_t> needed;
  std::vector<std::string> stack{to};
  std::set<std::string> seen;
  while (!stack.empty()) {
    const std::string t = stack.back();
    stack.pop_back();
    if (t.empty() || t == from || is_initializer(t) || !seen.insert(t).second) continue;
    const auto p = producer(t);
    if (!p) {
      throw Error(ErrorCode::Model, fmt::format("{}: '{}' depends on the graph input '{}' besides '{}'",
                                                impl_->file.string(), to, t, from));
    }
    needed.insert(*p);
    for (const auto& in : impl_->nodes[*p].inputs) stack.push_back(in);
  }
  if (!seen.count(to) && to != from) {
    throw Error(ErrorCode::Model, fmt::format("{}: '{}' is not computed from '{}'", impl_->file.string(), to, from));
  }
  return {needed.begin(), needed.end()};
}

std::optional<OnnxNodeInfo> OnnxGraph::first_non_affine(const std::string& from, const std::string& to) const {
  std::set<std::string> depends{from};  // tensors that depend on the head's input
  for (std::size_t i : head_nodes(from, to)) {
    const auto& node = impl_->nodes[i];
    std::size_t dependent_inputs = 0;
    for (const auto& in : node.inputs) dependent_inputs += depends.count(in);
    if (dependent_inputs == 0) continue;  // shape arithmetic and constants
    const bool product =
        node.op_type == "Mul" || node.op_type == "Div" || node.op_type == "MatMul" || node.op_type == "Gemm";
    if (!affine_ops().count(node.op_type) || (product && dependent_inputs > 1) ||
        (node.op_type == "Div" && depends.count(node.inputs.at(1)))) {
      return node;
    }
    for (const auto& out : node.outputs) depends.insert(out);
  }
  return std::nullopt;
}

std::string OnnxGraph::head_model(const std::string& from, const std::vector<std::int64_t>& dims,
                                  const std::string& to) const {
  const auto& g = impl_->proto.graph();
  onnx::ModelProto head;
  head.set_ir_version(impl_->proto.ir_version());
  *head.mutable_opset_import() = impl_->proto.opset_import();
  auto* hg = head.mutable_graph();
  hg->set_name("amva_head");
  std::set<std::string> used;
  for (std::size_t i : head_nodes(from, to)) {
    *hg->add_node() = g.node(static_cast<int>(i));
    for (const auto& in : g.node(static_cast<int>(i)).input()) used.insert(in);
  }
  for (const auto& init : g.initializer()) {
    if (used.count(init.name())) *hg->add_initializer() = init;
  }
  auto* input = hg->add_input();
  input->set_name(from);
  auto* tensor = input->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(onnx::TensorProto::FLOAT);
  tensor->mutable_shape()->add_dim()->set_dim_param("N");
  for (auto d : dims) tensor->mutable_shape()->add_dim()->set_dim_value(d);
  auto* output = hg->add_output();
  output->set_name(to);
  output->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  output->mutable_type()->mutable_tensor_type()->mutable_shape();  // OpenCV's importer wants one
  std::string bytes;
  head.SerializeToString(&bytes);
  return bytes;
}

std::vector<std::string> OnnxGraph::opencv_layer_candidates(const std::string& tensor) const {
  const auto p = producer(tensor);
  if (!p) return {tensor};
  const auto& node = impl_->nodes[*p];
  std::vector<std::string> names;
  if (!node.name.empty()) names.push_back("onnx_node!" + node.name);
  names.push_back(node.outputs.front());
  return names;
}

}  // namespace amva::model
