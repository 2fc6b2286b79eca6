// The packed model's header: u32 words at the model pointer, written by the TypeScript binding
// (kernels/silero/silero-kernels.ts, SILERO_HEADER) from the decoded weights. Keep the two in step.

export const H_WINDOW: i32 = 0; // samples per window (576 / 288)
export const H_FILTER: i32 = 1; // STFT window (256 / 128)
export const H_HOP: i32 = 2; // STFT hop (128 / 64)
export const H_RIGHT_PAD: i32 = 3; // reflection padding on the right (64 / 32)
export const H_BINS: i32 = 4; // frequency bins (129 / 65)
export const H_FRAMES: i32 = 5; // STFT frames (4)
export const H_ANALYSIS_WINDOW: i32 = 6; // [filter] f32: the STFT basis' first row (the basis is this window times the DFT)
export const H_PADDED: i32 = 7; // scratch: the reflection-padded window
export const H_CONV0: i32 = 8; // four convolutions, CONV_WORDS words each (CONV_* below)
export const CONV_WORDS: i32 = 8;
export const CONV_WEIGHT: i32 = 0; // [out][3][inPad] f32: tap-major rows, so a patch is contiguous
export const CONV_BIAS: i32 = 1; // [out] f32
export const CONV_IN_PAD: i32 = 2; // input channels padded to a multiple of 4 (zeros)
export const CONV_OUT: i32 = 3; // output channels (multiple of 4)
export const CONV_STRIDE: i32 = 4;
export const CONV_T_IN: i32 = 5;
export const CONV_T_OUT: i32 = 6;
export const CONV_INPUT: i32 = 7; // scratch [tIn + 2][inPad]: frame-major, zero frames at both ends
export const H_LSTM_WEIGHT: i32 = 40; // [4H][2H] f32: row r = weight_ih[r] then weight_hh[r]
export const H_LSTM_BIAS: i32 = 41; // [4H] f32: bias_ih + bias_hh
export const H_DECODER_WEIGHT: i32 = 42; // [H] f32
export const H_DECODER_BIAS: i32 = 43; // f32 bits
export const H_FFT_PLAN: i32 = 44; // real-FFT plan for filter / 2 complex points (kernels/audio/assembly/fft.ts)
export const H_FRAME: i32 = 45; // scratch [filter] f32: one windowed frame
export const HEADER_WORDS: i32 = 46;

export const HIDDEN: i32 = 128;

/** u32 word `index` of the header at `model`. */
// @ts-ignore: decorator
@inline export function field(model: usize, index: i32): i32 {
  return load<i32>(model + ((<usize>index) << 2));
}

/** Word `index` of convolution `layer`'s block. */
// @ts-ignore: decorator
@inline export function convField(model: usize, layer: i32, index: i32): i32 {
  return field(model, H_CONV0 + layer * CONV_WORDS + index);
}
