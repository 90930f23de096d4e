#pragma once
// Damage inside a JPEG's compressed data. libjpeg decodes such a file with a warning it prints
// to the terminal ("Corrupt JPEG data: bad Huffman code") and fills what it cannot read with
// grey or garbage; OpenCV passes neither the warning nor the file name on.
#include <optional>
#include <string>
#include <vector>

namespace amva::io {

/// libjpeg's message when the compressed data of `jpeg` is damaged (a bad Huffman or
/// arithmetic code, a segment that ends early, lost restart markers, a premature end), or its
/// error when the file cannot be decoded at all; nothing for an intact file and for warnings that
/// leave the pixels intact (extraneous bytes between markers, an unknown JFIF revision). Reads
/// the whole scan at 1/8 scale, a small fraction of a full decode, and prints nothing.
std::optional<std::string> jpeg_data_damage(const std::vector<unsigned char>& jpeg);

}  // namespace amva::io
