#pragma once
#include <filesystem>
#include <string>

namespace amva {
/// amva's shared folder (figure script, report template, model cards; in a build tree also the
/// fetched models and the default photos), found at run time: $AMVA_SHARE_DIR, else the
/// share/amva of the nearest folder above the running program that has one (a build tree lays
/// it out as an install does), else the install prefix's share/amva.
std::filesystem::path share_dir();
/// share_dir() / name.
std::filesystem::path share_file(const std::string& name);
}  // namespace amva
