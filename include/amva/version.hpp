#pragma once
namespace amva {
/// The library version, written into every store's meta.json.
const char* version() noexcept;
}  // namespace amva
