// FFmpeg demuxing, decoding and swscale resizing behind VideoDecoder.
#include "runtime/data/VideoDecoder.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
}

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace vidnet::data {

namespace {

std::string averror(int code) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(code, text, sizeof(text));
  return text;
}

int swsFlags(ResizeFilter f) {
  switch (f) {
  case ResizeFilter::Bilinear:
    return SWS_BILINEAR;
  case ResizeFilter::Area:
    return SWS_AREA;
  case ResizeFilter::Bicubic:
    break;
  }
  return SWS_BICUBIC;
}

} // namespace

struct VideoDecoder::Impl {
  std::string path;
  AVFormatContext *format = nullptr;
  AVCodecContext *codec = nullptr;
  SwsContext *sws = nullptr;
  AVPacket *packet = nullptr;
  AVFrame *frame = nullptr, *rgb = nullptr;
  int stream = -1;
  AVRational rate{0, 1};  // frames per second, {0, 1} when the file does not say
  bool pristine = false;  // nothing read since the input was opened

  ~Impl() { close(); }

  void close() {
    sws_freeContext(sws);
    sws = nullptr;
    av_frame_free(&rgb);
    av_frame_free(&frame);
    av_packet_free(&packet);
    avcodec_free_context(&codec);
    avformat_close_input(&format);
  }

  bool fail(std::string &error, const std::string &what, int code = 0) {
    error = path + ": " + what + (code ? " (" + averror(code) + ")" : "");
    return false;
  }

  // (Re)opens the container and decoder at the start of the stream.
  bool openInput(std::string &error) {
    close();
    int rc = avformat_open_input(&format, path.c_str(), nullptr, nullptr);
    if (rc < 0)
      return fail(error, "cannot open", rc);
    if ((rc = avformat_find_stream_info(format, nullptr)) < 0)
      return fail(error, "cannot read stream information", rc);
    stream = av_find_best_stream(format, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
    if (stream < 0)
      return fail(error, "no video stream");
    AVCodecParameters *par = format->streams[stream]->codecpar;
    const AVCodec *decoder = avcodec_find_decoder(par->codec_id);
    if (!decoder)
      return fail(error, std::string("no decoder for codec '") + avcodec_get_name(par->codec_id) + "'");
    codec = avcodec_alloc_context3(decoder);
    packet = av_packet_alloc();
    frame = av_frame_alloc();
    rgb = av_frame_alloc();
    if (!codec || !packet || !frame || !rgb)
      return fail(error, "out of memory");
    if ((rc = avcodec_parameters_to_context(codec, par)) < 0)
      return fail(error, "bad codec parameters", rc);
    // Videos are decoded in parallel one per loader thread; frame threads would only add
    // latency and make the CPU share depend on the worker count.
    codec->thread_count = 1;
    if ((rc = avcodec_open2(codec, decoder, nullptr)) < 0)
      return fail(error, std::string("cannot open the ") + decoder->name + " decoder", rc);
    if (codec->width <= 0 || codec->height <= 0)
      return fail(error, "video stream without a frame size");
    pristine = true;
    return true;
  }

  int64_t countPackets() {
    int64_t n = 0;
    while (av_read_frame(format, packet) >= 0) {
      n += packet->stream_index == stream;
      av_packet_unref(packet);
    }
    return n;
  }

  // The next decoded frame into `frame`: 1, 0 at the end of the stream, < 0 on error.
  int nextFrame(bool &flushed) {
    for (;;) {
      int rc = avcodec_receive_frame(codec, frame);
      if (rc == 0)
        return 1;
      if (rc == AVERROR_EOF)
        return 0;
      if (rc != AVERROR(EAGAIN))
        return rc;
      if (flushed)
        return 0;
      rc = av_read_frame(format, packet);
      if (rc == AVERROR_EOF || (rc < 0 && avio_feof(format->pb))) {
        flushed = true;
        avcodec_send_packet(codec, nullptr);
        continue;
      }
      if (rc < 0)
        return rc;
      if (packet->stream_index == stream) {
        rc = avcodec_send_packet(codec, packet);
        // A damaged packet in a long video should cost that frame, not the video:
        // decoders report it here and then resynchronise on the next keyframe.
        if (rc < 0 && rc != AVERROR(EAGAIN) && rc != AVERROR_INVALIDDATA) {
          av_packet_unref(packet);
          return rc;
        }
      }
      av_packet_unref(packet);
    }
  }

  // `frame` resized into out.rgb as the next entry.
  bool convert(DecodedFrames &out, ResizeFilter filter, std::string &error) {
    auto pixelFormat = static_cast<AVPixelFormat>(frame->format);
    sws = sws_getCachedContext(sws, frame->width, frame->height, pixelFormat, static_cast<int>(out.width),
                               static_cast<int>(out.height), AV_PIX_FMT_RGB24, swsFlags(filter), nullptr,
                               nullptr, nullptr);
    if (!sws)
      return fail(error, std::string("cannot convert ") + (av_get_pix_fmt_name(pixelFormat) ?: "?") + " frames to RGB");
    // The matrix the frame says it uses (BT.709 for most HD video), as the ffmpeg CLI does;
    // untagged frames get swscale's default, BT.601.
    int matrix = frame->colorspace == AVCOL_SPC_UNSPECIFIED ? SWS_CS_DEFAULT : static_cast<int>(frame->colorspace);
    int *inverse = nullptr, *table = nullptr, srcRange = 0, dstRange = 0, brightness = 0, contrast = 0,
        saturation = 0;
    if (sws_getColorspaceDetails(sws, &inverse, &srcRange, &table, &dstRange, &brightness, &contrast,
                                 &saturation) >= 0) {
      if (frame->color_range != AVCOL_RANGE_UNSPECIFIED)
        srcRange = frame->color_range == AVCOL_RANGE_JPEG;
      sws_setColorspaceDetails(sws, sws_getCoefficients(matrix), srcRange, table, dstRange, brightness, contrast,
                               saturation);
    }
    // swscale writes past the end of an exactly sized RGB24 row (TOOLCHAIN.md): convert into
    // FFmpeg's own padded frame, then copy the rows out.
    if (rgb->width != out.width || rgb->height != out.height) {
      av_frame_unref(rgb);
      rgb->format = AV_PIX_FMT_RGB24;
      rgb->width = static_cast<int>(out.width);
      rgb->height = static_cast<int>(out.height);
      if (int rc = av_frame_get_buffer(rgb, 64); rc < 0)
        return fail(error, "out of memory", rc);
    }
    sws_scale(sws, frame->data, frame->linesize, 0, frame->height, rgb->data, rgb->linesize);
    size_t row = static_cast<size_t>(out.width * 3), at = out.rgb.size();
    out.rgb.resize(at + row * static_cast<size_t>(out.height));
    for (int64_t y = 0; y < out.height; ++y)
      std::memcpy(out.rgb.data() + at + static_cast<size_t>(y) * row, rgb->data[0] + y * rgb->linesize[0], row);
    return true;
  }
};

std::unique_ptr<VideoDecoder> VideoDecoder::open(const std::string &path, std::string &error) {
  // FFmpeg's own log would interleave "concealing errors" lines from every worker with the
  // progress output; our messages name the file and the reason instead.
  // VIDNET_FFMPEG_LOG=1 brings FFmpeg's warnings back for debugging.
  static std::once_flag quiet;
  std::call_once(quiet, [] { av_log_set_level(std::getenv("VIDNET_FFMPEG_LOG") ? AV_LOG_WARNING : AV_LOG_QUIET); });
  std::unique_ptr<VideoDecoder> d(new VideoDecoder());
  d->impl_ = std::make_unique<Impl>();
  Impl &impl = *d->impl_;
  impl.path = path;
  if (!impl.openInput(error))
    return nullptr;
  AVStream *s = impl.format->streams[impl.stream];
  d->width_ = impl.codec->width;
  d->height_ = impl.codec->height;
  AVRational rate = av_guess_frame_rate(impl.format, s, nullptr);
  if (rate.num > 0 && rate.den > 0)
    impl.rate = rate;
  d->frameCount_ = s->nb_frames;
  if (d->frameCount_ <= 0) {
    // Matroska/WebM carry no count: one packet is one frame for every video codec we read.
    d->frameCount_ = impl.countPackets();
    if (!impl.openInput(error))
      return nullptr;
  }
  return d;
}

VideoDecoder::~VideoDecoder() = default;

double VideoDecoder::fps() const { return av_q2d(impl_->rate); }

bool VideoDecoder::read(const std::vector<int64_t> &wanted, int64_t outHeight, int64_t outWidth,
                        ResizeFilter filter, DecodedFrames &out, std::string &error) {
  Impl &impl = *impl_;
  out = DecodedFrames();
  out.width = outWidth;
  out.height = outHeight;
  if (wanted.empty())
    return true;
  AVStream *s = impl.format->streams[impl.stream];

  // Seek: to the keyframe at or before the first wanted frame's timestamp, then trust the
  // frames' timestamps for their indices. That is exact only for constant-rate timestamps,
  // so every decoded frame is checked to be the next index; anything else (no timestamps, a
  // seek that lands past the frame, a gap) falls back to decoding from the first frame.
  const int64_t first = wanted.front();
  const int64_t start = s->start_time == AV_NOPTS_VALUE ? 0 : s->start_time;
  const AVRational rate = impl.rate;
  const bool canSeek = first > 0 && rate.num > 0 && impl.format->pb &&
                       (impl.format->pb->seekable & AVIO_SEEKABLE_NORMAL);
  size_t next = 0;  // wanted[next] is the frame to keep next
  auto keep = [&](int64_t index) {
    if (index != wanted[next])
      return true;
    out.indices.push_back(index);
    ++next;
    return impl.convert(out, filter, error);
  };
  if (canSeek) {
    int64_t target = start + av_rescale_q(first, av_inv_q(rate), s->time_base);
    impl.pristine = false;
    if (av_seek_frame(impl.format, impl.stream, target, AVSEEK_FLAG_BACKWARD) >= 0) {
      avcodec_flush_buffers(impl.codec);
      bool flushed = false, exact = true;
      int64_t previous = -1;
      int rc = 0;
      while (next < wanted.size() && (rc = impl.nextFrame(flushed)) > 0) {
        int64_t ts = impl.frame->best_effort_timestamp;
        if (ts == AV_NOPTS_VALUE) {
          exact = false;
          break;
        }
        double position = av_q2d(s->time_base) * static_cast<double>(ts - start) * av_q2d(rate);
        int64_t index = std::llround(position);
        if (std::abs(position - static_cast<double>(index)) > 0.01 || (previous < 0 && index > first) ||
            (previous >= 0 && index != previous + 1)) {
          exact = false;
          break;
        }
        previous = index;
        if (!keep(index))
          return false;
      }
      if (exact && rc < 0 && next < wanted.size())
        return impl.fail(error, "decoding failed after frame " + std::to_string(previous), rc);
      if (exact && previous >= 0) {
        if (next < wanted.size())
          out.endOfStream = previous + 1;
        out.sought = true;
        return true;
      }
    }
    out.indices.clear();
    out.rgb.clear();
    next = 0;
  }

  if (!impl.pristine && !impl.openInput(error))
    return false;
  impl.pristine = false;
  bool flushed = false;
  int64_t index = 0;
  int rc = 0;
  for (; next < wanted.size() && (rc = impl.nextFrame(flushed)) > 0; ++index)
    if (!keep(index))
      return false;
  if (rc < 0)
    return impl.fail(error, "decoding failed after frame " + std::to_string(index), rc);
  if (next < wanted.size())
    out.endOfStream = index;
  return true;
}

} // namespace vidnet::data
