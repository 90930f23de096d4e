#include "jpeg_check.hpp"

#include <csetjmp>
#include <vector>

// The order matters: jpeglib.h needs size_t and FILE, jerror.h's warning codes need jpeglib.h.
// clang-format off
#include <cstddef>
#include <cstdio>
#include <jpeglib.h>
#include <jerror.h>
// clang-format on

namespace amva::io {
namespace {

struct ErrorManager {
  jpeg_error_mgr base{};
  std::jmp_buf escape{};
  std::optional<std::string> damage;
};

std::string message_of(j_common_ptr info) {
  char text[JMSG_LENGTH_MAX] = {};
  (*info->err->format_message)(info, text);
  return text;
}

bool damages_pixels(int code) {
  switch (code) {
    case JWRN_HIT_MARKER:
    case JWRN_HUFF_BAD_CODE:
    case JWRN_ARITH_BAD_CODE:
    case JWRN_MUST_RESYNC:
    case JWRN_JPEG_EOF:
      return true;
    default:
      return false;
  }
}

// Warnings are kept instead of printed (libjpeg's default writes them to stderr).
void on_message(j_common_ptr info, int level) {
  auto* errors = reinterpret_cast<ErrorManager*>(info->err);
  if (level < 0 && !errors->damage && damages_pixels(info->err->msg_code)) errors->damage = message_of(info);
}

[[noreturn]] void on_error(j_common_ptr info) {
  auto* errors = reinterpret_cast<ErrorManager*>(info->err);
  if (!errors->damage) errors->damage = message_of(info);
  std::longjmp(errors->escape, 1);
}

// The whole scan at 1/8 scale (the entropy decoder still reads every byte). False when libjpeg
// stopped with an error. Its one buffer lives in libjpeg's pool, so the long jump out of a
// libjpeg call skips no C++ destructor.
bool read_scan(jpeg_decompress_struct& info, ErrorManager& errors, const std::vector<unsigned char>& jpeg) {
  if (setjmp(errors.escape) != 0) return false;
  jpeg_create_decompress(&info);
  jpeg_mem_src(&info, jpeg.data(), static_cast<unsigned long>(jpeg.size()));
  jpeg_read_header(&info, TRUE);
  info.scale_num = 1;
  info.scale_denom = 8;
  info.dct_method = JDCT_IFAST;
  info.do_fancy_upsampling = FALSE;
  jpeg_start_decompress(&info);
  JSAMPARRAY rows = (*info.mem->alloc_sarray)(reinterpret_cast<j_common_ptr>(&info), JPOOL_IMAGE,
                                              info.output_width * static_cast<JDIMENSION>(info.output_components), 1);
  while (info.output_scanline < info.output_height) jpeg_read_scanlines(&info, rows, 1);
  jpeg_finish_decompress(&info);
  return true;
}

}  // namespace

std::optional<std::string> jpeg_data_damage(const std::vector<unsigned char>& jpeg) {
  jpeg_decompress_struct info{};
  ErrorManager errors;
  info.err = jpeg_std_error(&errors.base);
  errors.base.emit_message = on_message;
  errors.base.error_exit = on_error;
  read_scan(info, errors, jpeg);
  jpeg_destroy_decompress(&info);
  return errors.damage;
}

}  // namespace amva::io
