// RGB24 frames to an encoded video file: swscale to the codec's pixel format, encode, mux, rename into place.
#include "runtime/data/VideoWriter.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unistd.h>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

namespace vidnet::data {
namespace {

std::string ffmpegReason(int code) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, text, sizeof text);
  return text;
}

// yuv420p is what real datasets hold and what every decoder takes; failing that, the
// codec's format that loses least from RGB24 (ffv1, say, keeps it exactly).
AVPixelFormat choosePixelFormat(const AVCodec *codec) {
  if (codec->pix_fmts == nullptr)
    return AV_PIX_FMT_YUV420P;
  for (const AVPixelFormat *p = codec->pix_fmts; *p != AV_PIX_FMT_NONE; ++p)
    if (*p == AV_PIX_FMT_YUV420P)
      return *p;
  return avcodec_find_best_pix_fmt_of_list(codec->pix_fmts, AV_PIX_FMT_RGB24, 0, nullptr);
}

// Texture is the content, so quality beats size: a fixed quantiser or crf, never a bit rate
// that a busy clip would have to squeeze into.
void setHighQuality(AVCodecContext *context) {
  if (av_opt_find(context->priv_data, "crf", nullptr, 0, 0) != nullptr) {
    av_opt_set(context->priv_data, "crf", "16", 0);
    context->bit_rate = 0; // libvpx treats a bit rate next to crf as a cap
    return;
  }
  context->flags |= AV_CODEC_FLAG_QSCALE;
  context->global_quality = FF_QP2LAMBDA * 2;
}

// "an even width and height for yuv420p; got 171x128" when a subsampled format meets an odd
// size, else empty: encoders that reject that say only "Invalid argument".
std::string oddSizeProblem(AVPixelFormat format, int width, int height) {
  const AVPixFmtDescriptor *descriptor = av_pix_fmt_desc_get(format);
  if (descriptor == nullptr)
    return "";
  bool oddWidth = descriptor->log2_chroma_w > 0 && width % 2 != 0;
  bool oddHeight = descriptor->log2_chroma_h > 0 && height % 2 != 0;
  if (!oddWidth && !oddHeight)
    return "";
  return "an even width and height for " + std::string(descriptor->name) + "; got " + std::to_string(width) + "x" +
         std::to_string(height);
}

} // namespace

struct VideoWriter::State {
  std::string path, tmp;
  int width = 0, height = 0;
  AVFormatContext *format = nullptr;
  AVCodecContext *codec = nullptr;
  AVStream *stream = nullptr; // owned by `format`
  SwsContext *sws = nullptr;
  AVFrame *rgb = nullptr, *converted = nullptr;
  AVPacket *packet = nullptr;
  bool fileOpen = false, broken = false, finished = false;
  int64_t frames = 0;

  ~State() {
    if (fileOpen)
      avio_closep(&format->pb);
    if (!finished && !tmp.empty())
      ::unlink(tmp.c_str());
    av_packet_free(&packet);
    av_frame_free(&converted);
    av_frame_free(&rgb);
    sws_freeContext(sws);
    avcodec_free_context(&codec);
    avformat_free_context(format);
  }

  bool fail(const std::string &what, std::string &error) {
    broken = true;
    error = path + ": " + what;
    return false;
  }
  bool fail(const std::string &what, int code, std::string &error) { return fail(what + ": " + ffmpegReason(code), error); }

  bool openCodec(const AVCodec *encoder, int fps, std::string &error);
  bool openFile(std::string &error);
  bool allocateFrames(std::string &error);
  bool drain(bool flushing, std::string &error);
};

bool VideoWriter::State::openCodec(const AVCodec *encoder, int fps, std::string &error) {
  codec = avcodec_alloc_context3(encoder);
  if (codec == nullptr)
    return fail("cannot allocate the encoder context", AVERROR(ENOMEM), error);
  codec->width = width;
  codec->height = height;
  codec->time_base = AVRational{1, fps};
  codec->framerate = AVRational{fps, 1};
  codec->sample_aspect_ratio = AVRational{1, 1};
  codec->pix_fmt = choosePixelFormat(encoder);
  // swscale's RGB->YUV is BT.601 limited range; say so, for decoders that read the tags.
  codec->colorspace = AVCOL_SPC_SMPTE170M;
  codec->color_range = AVCOL_RANGE_MPEG;
  // Threads and the library version string in the stream would make files differ run to run
  // or library to library.
  codec->thread_count = 1;
  codec->flags |= AV_CODEC_FLAG_BITEXACT;
  if (format->oformat->flags & AVFMT_GLOBALHEADER)
    codec->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  setHighQuality(codec);
  // H.264 and HEVC crop in whole chroma samples, so 4:2:0 needs an even size; say so before
  // libx264 fails (it leaks a little on that path) with only "Invalid argument".
  const std::string oddSize = oddSizeProblem(codec->pix_fmt, width, height);
  const std::string opening = "cannot open encoder '" + std::string(encoder->name) + "'";
  if ((encoder->id == AV_CODEC_ID_H264 || encoder->id == AV_CODEC_ID_HEVC) && !oddSize.empty())
    return fail(opening + ": H.264 and HEVC need " + oddSize, error);
  if (int code = avcodec_open2(codec, encoder, nullptr); code < 0)
    return fail(opening + ": " + ffmpegReason(code) + (oddSize.empty() ? "" : " (it may need " + oddSize + ")"),
                error);

  stream = avformat_new_stream(format, nullptr);
  if (stream == nullptr)
    return fail("cannot add a video stream", AVERROR(ENOMEM), error);
  stream->time_base = codec->time_base;
  stream->avg_frame_rate = codec->framerate;
  if (int code = avcodec_parameters_from_context(stream->codecpar, codec); code < 0)
    return fail("cannot copy the encoder parameters", code, error);
  return true;
}

bool VideoWriter::State::openFile(std::string &error) {
  tmp = path + ".tmp." + std::to_string(::getpid());
  if (int code = avio_open(&format->pb, tmp.c_str(), AVIO_FLAG_WRITE); code < 0) {
    tmp.clear(); // nothing was created, nothing to remove
    return fail("cannot create '" + path + ".tmp.*'", code, error);
  }
  fileOpen = true;
  format->flags |= AVFMT_FLAG_BITEXACT; // no random mkv UIDs, no muxer version string
  if (int code = avformat_write_header(format, nullptr); code < 0)
    return fail("cannot write the container header", code, error);
  return true;
}

bool VideoWriter::State::allocateFrames(std::string &error) {
  // Frames from av_frame_get_buffer have padded lines and slack at the end: swscale's SIMD
  // paths read and write past the last pixel of an exactly sized buffer.
  rgb = av_frame_alloc();
  converted = av_frame_alloc();
  packet = av_packet_alloc();
  if (rgb == nullptr || converted == nullptr || packet == nullptr)
    return fail("cannot allocate frames", AVERROR(ENOMEM), error);
  rgb->format = AV_PIX_FMT_RGB24;
  converted->format = codec->pix_fmt;
  for (AVFrame *frame : {rgb, converted}) {
    frame->width = width;
    frame->height = height;
    if (int code = av_frame_get_buffer(frame, 0); code < 0)
      return fail("cannot allocate a frame buffer", code, error);
  }
  sws = sws_getContext(width, height, AV_PIX_FMT_RGB24, width, height, codec->pix_fmt,
                       SWS_BILINEAR | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INP, nullptr, nullptr, nullptr);
  if (sws == nullptr)
    return fail(std::string("swscale cannot convert rgb24 to ") + av_get_pix_fmt_name(codec->pix_fmt), error);
  return true;
}

// Moves every packet the encoder has ready into the file; with `flushing`, until it is empty.
bool VideoWriter::State::drain(bool flushing, std::string &error) {
  for (;;) {
    int code = avcodec_receive_packet(codec, packet);
    if (code == AVERROR_EOF || (code == AVERROR(EAGAIN) && !flushing))
      return true;
    if (code < 0)
      return fail("encoding failed", code, error);
    av_packet_rescale_ts(packet, codec->time_base, stream->time_base);
    packet->stream_index = stream->index;
    if (code = av_interleaved_write_frame(format, packet); code < 0)
      return fail("cannot write a packet", code, error);
  }
}

VideoWriter::VideoWriter() = default;
VideoWriter::~VideoWriter() = default;

int64_t VideoWriter::framesWritten() const { return state_ ? state_->frames : 0; }

bool VideoWriter::open(const std::string &path, int width, int height, int fps, const std::string &codecName,
                       std::string &error) {
  if (state_) {
    error = path + ": this VideoWriter was already opened for '" + state_->path + "'";
    return false;
  }
  if (width <= 0 || height <= 0 || fps <= 0 || fps > 1000) {
    error = path + ": bad video size or frame rate " + std::to_string(width) + "x" + std::to_string(height) + " at " +
            std::to_string(fps) + " fps";
    return false;
  }
  // The same policy as VideoDecoder::open: our messages carry the reason, FFmpeg's log only
  // interleaves with the progress output.
  static std::once_flag quiet;
  std::call_once(quiet, [] { av_log_set_level(std::getenv("VIDNET_FFMPEG_LOG") ? AV_LOG_WARNING : AV_LOG_QUIET); });
  auto state = std::make_unique<State>();
  state->path = path;
  state->width = width;
  state->height = height;

  const std::string name = codecName.empty() ? kDefaultVideoCodec : codecName;
  const AVCodec *encoder = avcodec_find_encoder_by_name(name.c_str());
  if (encoder == nullptr || encoder->type != AVMEDIA_TYPE_VIDEO)
    return state->fail("no video encoder named '" + name + "' in this libavcodec (see `ffmpeg -encoders`)", error);

  if (int code = avformat_alloc_output_context2(&state->format, nullptr, nullptr, path.c_str()); code < 0)
    return state->fail("no container for this file name (use .avi, .mp4 or .mkv)", code, error);
  // Muxers that write their own files (image sequences) cannot go through the temporary file.
  if (state->format->oformat->flags & AVFMT_NOFILE)
    return state->fail(std::string("container '") + state->format->oformat->name + "' is not a single file", error);
  if (avformat_query_codec(state->format->oformat, encoder->id, FF_COMPLIANCE_NORMAL) == 0)
    return state->fail(std::string("container '") + state->format->oformat->name + "' cannot hold codec '" + name + "'",
                       error);

  if (!state->openCodec(encoder, fps, error) || !state->openFile(error) || !state->allocateFrames(error))
    return false;
  state_ = std::move(state);
  return true;
}

bool VideoWriter::write(const uint8_t *rgb, std::string &error) {
  if (!state_) {
    error = "VideoWriter::write before a successful open";
    return false;
  }
  State &s = *state_;
  if (s.broken || s.finished)
    return s.fail(s.finished ? "write after finish" : "write after an earlier error", error);
  const size_t rowBytes = static_cast<size_t>(s.width) * 3;
  for (int y = 0; y < s.height; ++y)
    std::memcpy(s.rgb->data[0] + static_cast<ptrdiff_t>(y) * s.rgb->linesize[0], rgb + y * rowBytes, rowBytes);
  // The encoder may still hold a reference to the previous frame's buffers.
  if (int code = av_frame_make_writable(s.converted); code < 0)
    return s.fail("cannot get a writable frame", code, error);
  sws_scale(s.sws, s.rgb->data, s.rgb->linesize, 0, s.height, s.converted->data, s.converted->linesize);
  s.converted->pts = s.frames;
  s.converted->quality = s.codec->global_quality; // the mpeg4 family reads qscale per frame
  if (int code = avcodec_send_frame(s.codec, s.converted); code < 0)
    return s.fail("cannot encode frame " + std::to_string(s.frames), code, error);
  ++s.frames;
  return s.drain(false, error);
}

bool VideoWriter::finish(std::string &error) {
  if (!state_) {
    error = "VideoWriter::finish before a successful open";
    return false;
  }
  State &s = *state_;
  if (s.broken || s.finished)
    return s.fail(s.finished ? "finish called twice" : "cannot finish after an earlier error", error);
  if (int code = avcodec_send_frame(s.codec, nullptr); code < 0)
    return s.fail("cannot flush the encoder", code, error);
  if (!s.drain(true, error))
    return false;
  if (int code = av_write_trailer(s.format); code < 0)
    return s.fail("cannot write the container trailer", code, error);
  s.fileOpen = false;
  if (int code = avio_closep(&s.format->pb); code < 0)
    return s.fail("cannot close '" + s.tmp + "'", code, error);
  if (std::rename(s.tmp.c_str(), s.path.c_str()) != 0) {
    const int code = AVERROR(errno); // before building the message can touch errno
    return s.fail("cannot rename '" + s.tmp + "' over it", code, error);
  }
  s.finished = true;
  return true;
}

} // namespace vidnet::data
