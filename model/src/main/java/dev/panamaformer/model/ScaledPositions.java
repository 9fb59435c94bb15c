package dev.panamaformer.model;

import dev.panamaformer.kernels.FloatTensor;
import dev.panamaformer.kernels.RotaryTable;

/**
 * The position tables of one stream (source or target) of a decoding session that scales its
 * positions ({@link PositionScaling}), built when it starts and covering every id it may use.
 *
 * @param absolute the rows its embeddings add (learned, interpolated; or sinusoids), or null
 * @param rotary   RoPE's angles, or null
 */
record ScaledPositions(FloatTensor absolute, RotaryTable rotary) {
}
