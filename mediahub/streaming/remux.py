"""The PyAV core shared by live transmux and finalize: one input, one MP4 output.

Streams a browser decodes are copied packet by packet; audio it cannot decode becomes
AAC; video it cannot decode becomes H.264. Encoder settings are constants here: nothing
from the file or the request reaches FFmpeg options. Blocking; runs in a worker thread.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from fractions import Fraction

import av
import av.container
from av.video.frame import PictureType

from mediahub.streaming.probe import Action, MediaPlan

H264_OPTIONS = {"preset": "fast", "profile": "high", "level": "4.1"}
H264_CRF = "21"
H264_GOP_SECONDS = 2  # keyframes this often: fragments flow and `start=` seeks land close
AAC_BIT_RATE = 160_000
ISO_639_2 = re.compile("[a-z]{3}")
AAC_RATES = frozenset({8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000, 88200, 96000})


class JobCancelled(Exception):
    """The job was told to stop (its client went away)."""


def convert(
    inp: av.container.InputContainer,
    plan: MediaPlan,
    out: av.container.OutputContainer,
    *,
    start: float = 0.0,
    stop: threading.Event | None = None,
    taps: Mapping[int, Callable[[av.Packet], None]] | None = None,
    every_audio: bool = False,
) -> None:
    """Write `plan`'s video and audio from `inp` into `out`; the caller closes `out`.

    The default audio track comes first (players start with it); `every_audio` adds the
    file's other audio tracks after it, with their languages.

    `start` > 0 seeks to the video keyframe at or before that many seconds (the MP4 muxer
    starts the output timeline at zero there). Setting `stop` makes the
    loop raise `JobCancelled` at the next packet. `taps` receive the packets of other
    input streams (by index) read in the same pass, e.g. subtitles to extract.
    """
    streams = [plan.video, plan.audio, *(plan.other_audio if every_audio else ())]
    pipes = [_Pipe.open(inp, out, p) for p in streams if p is not None]
    trim = None
    if start > 0:
        anchor = inp.streams[(plan.video or plan.audio).index]  # type: ignore[union-attr]
        inp.seek(int(start / anchor.time_base), stream=anchor, backward=True, any_frame=False)
        trim = _SeekTrim(anchor.index)
    by_index = {p.source.index: p for p in pipes}
    taps = taps or {}
    for packet in inp.demux([inp.streams[i] for i in [*by_index, *taps]]):
        if stop is not None and stop.is_set():
            raise JobCancelled()
        for ready in trim.admit(packet) if trim is not None else (packet,):
            pipe = by_index.get(ready.stream.index)
            if pipe is not None:
                pipe.feed(ready, out)
            else:
                taps[ready.stream.index](ready)
    for pipe in pipes:
        pipe.flush(out)


class _SeekTrim:
    """After a seek, start every stream at the keyframe we landed on.

    A badly interleaved file stores some audio after video of a later time, so reading on
    from the seek point can turn up audio from long before it; kept, it would start the
    output there, with a frozen picture until the video begins. Other streams' packets
    are held until the landing keyframe is read, then whatever ends before it is dropped.
    """

    MAX_HELD = 10_000  # a video stream that never shows a keyframe: stop holding

    def __init__(self, anchor_index: int) -> None:
        self.anchor_index = anchor_index
        self.landing: float | None = None
        self.held: list[av.Packet] = []

    def admit(self, packet: av.Packet) -> list[av.Packet]:
        """The packets (this one and/or held ones) to process now, in order."""
        if self.landing is not None:
            return [] if self._before_landing(packet) else [packet]
        if packet.stream.index == self.anchor_index and packet.is_keyframe and packet.size:
            self.landing = _seconds(packet) or 0.0
            ready = [p for p in self.held if not self._before_landing(p)] + [packet]
            self.held = []
            return ready
        if packet.stream.index == self.anchor_index or len(self.held) >= self.MAX_HELD:
            return [packet]
        self.held.append(packet)
        return []

    def _before_landing(self, packet: av.Packet) -> bool:
        begins = _seconds(packet)
        if begins is None or packet.stream.index == self.anchor_index or self.landing is None:
            return False
        return begins + float((packet.duration or 0) * packet.time_base) < self.landing


def _seconds(packet: av.Packet) -> float | None:
    ts = packet.pts if packet.pts is not None else packet.dts
    return None if ts is None else float(ts * packet.time_base)


class _Pipe:
    """One input stream's way into the output: copy, or decode and re-encode."""

    def __init__(self, source: av.stream.Stream, target: av.stream.Stream, action: Action) -> None:
        self.source = source
        self.target = target
        self.action = action
        self.seen_keyframe = source.type != "video"
        self.last_pts: int | None = None

    @classmethod
    def open(cls, inp: av.container.InputContainer, out: av.container.OutputContainer, plan) -> _Pipe:
        source = inp.streams[plan.index]
        if plan.action is Action.COPY:
            target = out.add_stream_from_template(source)
            target.codec_context.codec_tag = "\0\0\0\0"  # let the MP4 muxer pick its own tag (e.g. AVI's H264 -> avc1)
        elif plan.action is Action.TO_AAC:
            rate = source.codec_context.sample_rate if source.codec_context.sample_rate in AAC_RATES else 48000
            target = out.add_stream("aac", rate=rate, layout="stereo")
            target.bit_rate = AAC_BIT_RATE
        else:
            fps = source.average_rate or source.guessed_rate or Fraction(25)
            target = out.add_stream("libx264", rate=fps)
            ctx = source.codec_context
            target.width, target.height = ctx.width // 2 * 2, ctx.height // 2 * 2  # 4:2:0 needs even sizes
            target.pix_fmt = "yuv420p"
            target.codec_context.time_base = source.time_base
            if ctx.sample_aspect_ratio:
                target.codec_context.sample_aspect_ratio = ctx.sample_aspect_ratio
            gop = max(1, round(float(fps) * H264_GOP_SECONDS))
            target.options = {**H264_OPTIONS, "crf": H264_CRF, "x264-params": f"keyint={gop}:min-keyint={gop}"}
        language = source.metadata.get("language", "")
        if ISO_639_2.fullmatch(language):  # the file's own text: only a plain language code goes on
            target.metadata["language"] = language
        return cls(source, target, plan.action)

    def feed(self, packet: av.Packet, out: av.container.OutputContainer) -> None:
        # Only the demuxer's end-of-stream packets are empty; dts-less packets are real
        # frames (Matroska with B-frames) and must be kept. Decoders are flushed in flush().
        if packet.size == 0:
            return
        if self.action is Action.COPY:
            if not self.seen_keyframe:  # a copy that starts mid-GOP shows a frozen picture
                if not packet.is_keyframe:
                    return
                self.seen_keyframe = True
            packet.stream = self.target
            out.mux(packet)
            return
        for frame in packet.decode():
            self._encode(frame, out)

    def flush(self, out: av.container.OutputContainer) -> None:
        if self.action is Action.COPY:
            return
        for frame in self.source.codec_context.decode(None):
            self._encode(frame, out)
        out.mux(self.target.encode(None))

    def _encode(self, frame: av.AudioFrame | av.VideoFrame, out: av.container.OutputContainer) -> None:
        if isinstance(frame, av.VideoFrame):
            if frame.pts is None or (self.last_pts is not None and frame.pts <= self.last_pts):
                return  # encoders need strictly increasing timestamps
            self.last_pts = frame.pts
            ctx = self.target.codec_context
            if frame.format.name != "yuv420p" or (frame.width, frame.height) != (ctx.width, ctx.height):
                frame = frame.reformat(width=ctx.width, height=ctx.height, format="yuv420p")
            frame.pict_type = PictureType.NONE  # the encoder picks its own GOP, not the source's
        out.mux(self.target.encode(frame))
