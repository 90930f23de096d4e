#include "amva/model/onnx_graph.hpp"

#include <fmt/format.h>
#include <onnx/onnx_pb.h>

#include <fstream>
#include <set>
#include <unordered_map>

#include "amva/error.hpp"

namespace amva::model {

struct OnnxGraph::Impl {
  std::filesystem::path file;
  std::vector<OnnxTensorInfo> inputs;
  std::vector<OnnxTensorInfo> outputs;
  std::vector<OnnxNodeInfo> nodes;
  std::unordered_map<std::string, std::size_t> producers;
  std::set<std::string> initializers;
};

namespace {
OnnxTensorInfo tensor_info(const onnx::ValueInfoProto& v) {
  OnnxTensorInfo t{v.name(), {}};
  for (const auto& d : v.type().tensor_type().shape().dim()) {
    t.dims.push_back(d.has_dim_value() && d.dim_value() > 0 ? d.dim_value() : -1);
  }
  return t;
}
}  // namespace

OnnxGraph OnnxGraph::load(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(ErrorCode::NotFound, fmt::format("{}: model file not found", file.string()));
  onnx::ModelProto proto;
  if (!proto.ParseFromIstream(&in) || !proto.has_graph() || proto.graph().node_size() == 0) {
    throw Error(ErrorCode::Model, fmt::format("{}: not a valid ONNX model", file.string()));
  }
  auto impl = std::make_unique<Impl>();
  impl->file = file;
  const auto& g = proto.graph();
  for (const auto& init : g.initializer()) impl->initializers.insert(init.name());
  for (const auto& v : g.input()) {
    if (!impl->initializers.count(v.name())) impl->inputs.push_back(tensor_info(v));
  }
  for (const auto& v : g.output()) impl->outputs.push_back(tensor_info(v));
  for (const auto& n : g.node()) {
    OnnxNodeInfo node{n.name(), n.op_type(), {n.input().begin(), n.input().end()},
                      {n.output().begin(), n.output().end()}};
    for (const auto& out : node.outputs) impl->producers[out] = impl->nodes.size();
    impl->nodes.push_back(std::move(node));
  }
  return OnnxGraph(std::move(impl));
}

OnnxGraph::OnnxGraph(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OnnxGraph::~OnnxGraph() = default;
OnnxGraph::OnnxGraph(OnnxGraph&&) noexcept = default;
OnnxGraph& OnnxGraph::operator=(OnnxGraph&&) noexcept = default;

const std::vector<OnnxTensorInfo>& OnnxGraph::inputs() const { return impl_->inputs; }
const std::vector<OnnxTensorInfo>& OnnxGraph::outputs() const { return impl_->outputs; }
const std::vector<OnnxNodeInfo>& OnnxGraph::nodes() const { return impl_->nodes; }
const std::filesystem::path& OnnxGraph::file() const { return impl_->file; }

std::optional<std::size_t> OnnxGraph::producer(const std::string& tensor) const {
  auto it = impl_->producers.find(tensor);
  if (it == impl_->producers.end()) return std::nullopt;
  return it->second;
}

bool OnnxGraph::is_initializer(const std::string& tensor) const { return impl_->initializers.count(tensor) > 0; }

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

}  // namespace amva::model
