package dev.think4j.kv;

import dev.think4j.tensor.Quantizer;
import jdk.incubator.vector.FloatVector;

/**
 * KIVI's asymmetric low-bit layouts. Keys are quantized per channel over groups of G tokens (the
 * outlier structure of keys is per channel); values per token over groups of channels. Each group
 * has an F16 scale and zero point; codes are bit-packed (2-bit: four per byte, 4-bit: two).
 * Attention reads the codes in place, one group at a time.
 */
final class KiviStores {
    private KiviStores() {
    }

    /** Packed unsigned codes of a fixed bit width. */
    static final class Codes {
        final int bits;
        byte[] data;

        Codes(int bits, int count) {
            this.bits = bits;
            this.data = new byte[(count * bits + 7) / 8];
        }

        /** Room for {@code count} codes, growing by half again so appends cost amortised O(1). */
        void ensure(int count) {
            int needed = (count * bits + 7) / 8;
            if (needed > data.length) {
                data = java.util.Arrays.copyOf(data, Math.max(needed, data.length + data.length / 2));
            }
        }

        long bytesFor(int count) {
            return (count * (long) bits + 7) / 8;
        }

        void set(int i, int code) {
            int bit = i * bits;
            data[bit >>> 3] |= (byte) (code << (bit & 7));
        }

        int get(int i) {
            int bit = i * bits;
            return (data[bit >>> 3] >>> (bit & 7)) & ((1 << bits) - 1);
        }
    }

    /** min/max quantization of one group: returns {scale, zero} after F16 rounding. */
    static float[] fit(float min, float max, int bits) {
        float zero = Quantizer.halfRound(min);
        float scale = Quantizer.halfRound((max - zero) / ((1 << bits) - 1));
        return new float[] {scale, zero};
    }

    static int code(float x, float scale, float zero, int bits) {
        if (scale == 0f) {
            return 0;
        }
        int q = Math.round((x - zero) / scale);
        return Math.max(0, Math.min((1 << bits) - 1, q));
    }

    static final class Keys implements KeyStore, AppendableStore {
        private int tokens;
        private final int width;
        private final int group;
        private final int bits;
        /** Groups the arrays have room for; the zero points' stride. */
        private int capacity;
        private float[] scale;
        /** Zero points channel-major ([channel][group], stride = capacity), so q . zero for all groups needs no horizontal sums. */
        private float[] zero;
        private final Codes codes;

        /** rows.length must be a multiple of group. */
        Keys(float[][] rows, int width, int group, int bits) {
            this.width = width;
            this.group = group;
            this.bits = bits;
            this.capacity = Math.max(1, rows.length / group);
            this.scale = new float[capacity * width];
            this.zero = new float[capacity * width];
            this.codes = new Codes(bits, rows.length * width);
            appendRows(rows);
        }

        /** Quantizes and appends whole groups (decode-time flushes add one group at a time). */
        @Override
        public void appendRows(float[][] rows) {
            if (rows.length % group != 0) {
                throw new IllegalArgumentException(rows.length + " tokens is not a multiple of the KIVI group " + group);
            }
            int first = tokens / group;
            int groups = first + rows.length / group;
            if (groups > capacity) {
                int next = Math.max(groups, capacity + capacity / 2);
                scale = java.util.Arrays.copyOf(scale, next * width);
                float[] z = new float[next * width];
                for (int c = 0; c < width; c++) {
                    System.arraycopy(zero, c * capacity, z, c * next, first);
                }
                zero = z;
                capacity = next;
            }
            codes.ensure(groups * group * width);
            for (int g = first; g < groups; g++) {
                for (int c = 0; c < width; c++) {
                    float min = Float.POSITIVE_INFINITY;
                    float max = Float.NEGATIVE_INFINITY;
                    for (int t = 0; t < group; t++) {
                        float x = rows[(g - first) * group + t][c];
                        min = Math.min(min, x);
                        max = Math.max(max, x);
                    }
                    float[] sz = fit(min, max, bits);
                    scale[g * width + c] = sz[0];
                    zero[c * capacity + g] = sz[1];
                    for (int t = 0; t < group; t++) {
                        codes.set((g * width + c) * group + t, code(rows[(g - first) * group + t][c], sz[0], sz[1], bits));
                    }
                }
            }
            tokens = groups * group;
        }

        @Override
        public int tokens() {
            return tokens;
        }

        @Override
        public int width() {
            return width;
        }

        @Override
        public void scores(float[] q, int qOff, float[] out, int outOff) {
            float[] qs = new float[width];
            boolean vector = PackedCodes.VECTOR && group % PackedCodes.LANES == 0;
            float[] constants = zeroTerms(q, qOff);
            for (int g = 0; g < tokens / group; g++) {
                float constant = constants[g];
                VectorMath.multiply(q, qOff, scale, g * width, qs, 0, width);
                if (vector) {
                    scoreGroup(g, qs, constant, out, outOff + g * group);
                    continue;
                }
                for (int t = 0; t < group; t++) {
                    float acc = constant;
                    for (int c = 0; c < width; c++) {
                        acc += qs[c] * codes.get((g * width + c) * group + t);
                    }
                    out[outOff + g * group + t] = acc;
                }
            }
        }

        /**
         * The zero points' share of each group's scores, q . zero_g for every group g (score_t =
         * that + (q * scale_g) . code_t), vectorised across groups in channel order.
         */
        private float[] zeroTerms(float[] q, int qOff) {
            int groups = tokens / group;
            float[] out = new float[groups];
            int g = 0;
            if (PackedCodes.VECTOR) {
                for (; g + PackedCodes.LANES <= groups; g += PackedCodes.LANES) {
                    FloatVector acc = FloatVector.zero(PackedCodes.F);
                    for (int c = 0; c < width; c++) {
                        acc = FloatVector.fromArray(PackedCodes.F, zero, c * capacity + g)
                                .fma(FloatVector.broadcast(PackedCodes.F, q[qOff + c]), acc);
                    }
                    acc.intoArray(out, g);
                }
            }
            for (; g < groups; g++) {
                float acc = 0f;
                for (int c = 0; c < width; c++) {
                    acc = Math.fma(zero[c * capacity + g], q[qOff + c], acc);
                }
                out[g] = acc;
            }
            return out;
        }

        /** Four queries of a GQA group per pass: each packed word is decoded once for all four. */
        @Override
        public void scores(float[] q, int qOff, int qStride, int nq, float[] out, int outOff, int outStride) {
            int i = 0;
            if (PackedCodes.VECTOR && group % PackedCodes.LANES == 0) {
                float[] qs = new float[4 * width];
                float[] constant = new float[4];
                for (; i + 4 <= nq; i += 4) {
                    float[][] terms = new float[4][];
                    for (int j = 0; j < 4; j++) {
                        terms[j] = zeroTerms(q, qOff + (i + j) * qStride);
                    }
                    for (int g = 0; g < tokens / group; g++) {
                        for (int j = 0; j < 4; j++) {
                            constant[j] = terms[j][g];
                            VectorMath.multiply(q, qOff + (i + j) * qStride, scale, g * width, qs, j * width, width);
                        }
                        scoreGroup4(g, qs, constant, out, outOff + i * outStride + g * group, outStride);
                    }
                }
            }
            for (; i < nq; i++) {
                scores(q, qOff + i * qStride, out, outOff + i * outStride);
            }
        }

        private void scoreGroup4(int g, float[] qs, float[] constant, float[] out, int o, int os) {
            for (int t0 = 0; t0 < group; t0 += PackedCodes.LANES) {
                FloatVector a0 = FloatVector.broadcast(PackedCodes.F, constant[0]);
                FloatVector a1 = FloatVector.broadcast(PackedCodes.F, constant[1]);
                FloatVector a2 = FloatVector.broadcast(PackedCodes.F, constant[2]);
                FloatVector a3 = FloatVector.broadcast(PackedCodes.F, constant[3]);
                int first = g * width * group + t0;
                for (int c = 0; c < width; c++) {
                    FloatVector k = PackedCodes.unpack(codes.data, first + c * group, bits);
                    a0 = k.fma(FloatVector.broadcast(PackedCodes.F, qs[c]), a0);
                    a1 = k.fma(FloatVector.broadcast(PackedCodes.F, qs[width + c]), a1);
                    a2 = k.fma(FloatVector.broadcast(PackedCodes.F, qs[2 * width + c]), a2);
                    a3 = k.fma(FloatVector.broadcast(PackedCodes.F, qs[3 * width + c]), a3);
                }
                a0.intoArray(out, o + t0);
                a1.intoArray(out, o + os + t0);
                a2.intoArray(out, o + 2 * os + t0);
                a3.intoArray(out, o + 3 * os + t0);
            }
        }

        /** Eight tokens of a group at a time: each channel's codes for them are one packed word. */
        private void scoreGroup(int g, float[] qs, float constant, float[] out, int o) {
            for (int t0 = 0; t0 < group; t0 += PackedCodes.LANES) {
                FloatVector acc = FloatVector.broadcast(PackedCodes.F, constant);
                int first = g * width * group + t0;
                for (int c = 0; c < width; c++) {
                    acc = PackedCodes.unpack(codes.data, first + c * group, bits).fma(FloatVector.broadcast(PackedCodes.F, qs[c]), acc);
                }
                acc.intoArray(out, o + t0);
            }
        }

        /** Codes and F16 scale and zero per (group, channel) of the tokens held (not spare capacity). */
        @Override
        public long bytes() {
            return codes.bytesFor(tokens * width) + 2L * 2 * (tokens / group) * width;
        }

        @Override
        public void row(int t, float[] out, int outOff) {
            int g = t / group;
            for (int c = 0; c < width; c++) {
                out[outOff + c] = codes.get((g * width + c) * group + t % group) * scale[g * width + c] + zero[c * capacity + g];
            }
        }
    }

    static final class Values implements ValueStore, AppendableStore {
        /** Per-thread p_t * scale_t for the grouped kernel (one row per query head). */
        private static final ThreadLocal<float[]> WEIGHTS = ThreadLocal.withInitial(() -> new float[0]);
        private int tokens;
        private final int width;
        private final int group;
        private final int bits;
        private final int groupsPerRow;
        /** Tokens the arrays have room for; the stride of scale and zero ([channel group][token]). */
        private int capacity;
        private float[] scale;
        private float[] zero;
        private final Codes codes;

        Values(float[][] rows, int width, int group, int bits) {
            this.width = width;
            this.group = Math.min(group, width);
            this.bits = bits;
            this.groupsPerRow = (width + this.group - 1) / this.group;
            this.capacity = Math.max(1, rows.length);
            this.scale = new float[capacity * groupsPerRow];
            this.zero = new float[capacity * groupsPerRow];
            this.codes = new Codes(bits, rows.length * width);
            appendRows(rows);
        }

        @Override
        public void appendRows(float[][] rows) {
            int total = tokens + rows.length;
            if (total > capacity) {
                int next = Math.max(total, capacity + capacity / 2);
                float[] s = new float[next * groupsPerRow];
                float[] z = new float[next * groupsPerRow];
                for (int gi = 0; gi < groupsPerRow; gi++) {
                    System.arraycopy(scale, gi * capacity, s, gi * next, tokens);
                    System.arraycopy(zero, gi * capacity, z, gi * next, tokens);
                }
                scale = s;
                zero = z;
                capacity = next;
            }
            codes.ensure(total * width);
            for (int t = tokens; t < total; t++) {
                float[] row = rows[t - tokens];
                for (int gi = 0; gi < groupsPerRow; gi++) {
                    int c0 = gi * this.group;
                    int c1 = Math.min(width, c0 + this.group);
                    float min = Float.POSITIVE_INFINITY;
                    float max = Float.NEGATIVE_INFINITY;
                    for (int c = c0; c < c1; c++) {
                        min = Math.min(min, row[c]);
                        max = Math.max(max, row[c]);
                    }
                    float[] sz = fit(min, max, bits);
                    scale[gi * capacity + t] = sz[0];
                    zero[gi * capacity + t] = sz[1];
                    for (int c = c0; c < c1; c++) {
                        codes.set(t * width + c, code(row[c], sz[0], sz[1], bits));
                    }
                }
            }
            tokens = total;
        }

        @Override
        public int tokens() {
            return tokens;
        }

        @Override
        public int width() {
            return width;
        }

        @Override
        public void accumulate(float[] p, int pOff, float[] out, int outOff) {
            if (PackedCodes.VECTOR && width % PackedCodes.LANES == 0 && group % PackedCodes.LANES == 0) {
                accumulateVector(p, pOff, out, outOff);
                return;
            }
            for (int t = 0; t < tokens; t++) {
                float pt = p[pOff + t];
                for (int gi = 0; gi < groupsPerRow; gi++) {
                    float sc = pt * scale[gi * capacity + t];
                    float zr = pt * zero[gi * capacity + t];
                    int c1 = Math.min(width, gi * group + group);
                    for (int c = gi * group; c < c1; c++) {
                        out[outOff + c] += sc * codes.get(t * width + c) + zr;
                    }
                }
            }
        }

        /** Four weight rows of a GQA group per pass: each packed word is decoded once for all four. */
        @Override
        public void accumulate(float[] p, int pOff, int pStride, int np, float[] out, int outOff, int outStride) {
            int i = 0;
            if (PackedCodes.VECTOR && width % PackedCodes.LANES == 0 && group % PackedCodes.LANES == 0) {
                for (; i + 4 <= np; i += 4) {
                    accumulate4(p, pOff + i * pStride, pStride, out, outOff + i * outStride, outStride);
                    for (int j = 0; j < 4; j++) {
                        addZeroPoints(p, pOff + (i + j) * pStride, out, outOff + (i + j) * outStride);
                    }
                }
            }
            for (; i < np; i++) {
                accumulate(p, pOff + i * pStride, out, outOff + i * outStride);
            }
        }

        private void accumulate4(float[] p, int p0, int ps, float[] out, int o, int os) {
            float[] w = WEIGHTS.get();
            if (w.length < 4 * tokens) {
                w = new float[4 * tokens];
                WEIGHTS.set(w);
            }
            for (int gi = 0; gi < groupsPerRow; gi++) {
                for (int j = 0; j < 4; j++) {
                    VectorMath.multiply(p, p0 + j * ps, scale, gi * capacity, w, j * tokens, tokens);
                }
                int c1 = Math.min(width, gi * group + group);
                for (int c0 = gi * group; c0 < c1; c0 += PackedCodes.LANES) {
                    FloatVector a0 = FloatVector.fromArray(PackedCodes.F, out, o + c0);
                    FloatVector a1 = FloatVector.fromArray(PackedCodes.F, out, o + os + c0);
                    FloatVector a2 = FloatVector.fromArray(PackedCodes.F, out, o + 2 * os + c0);
                    FloatVector a3 = FloatVector.fromArray(PackedCodes.F, out, o + 3 * os + c0);
                    for (int t = 0; t < tokens; t++) {
                        FloatVector v = PackedCodes.unpack(codes.data, t * width + c0, bits);
                        a0 = v.fma(FloatVector.broadcast(PackedCodes.F, w[t]), a0);
                        a1 = v.fma(FloatVector.broadcast(PackedCodes.F, w[tokens + t]), a1);
                        a2 = v.fma(FloatVector.broadcast(PackedCodes.F, w[2 * tokens + t]), a2);
                        a3 = v.fma(FloatVector.broadcast(PackedCodes.F, w[3 * tokens + t]), a3);
                    }
                    a0.intoArray(out, o + c0);
                    a1.intoArray(out, o + os + c0);
                    a2.intoArray(out, o + 2 * os + c0);
                    a3.intoArray(out, o + 3 * os + c0);
                }
            }
        }

        /**
         * Eight output channels at a time held in a register across all tokens; the zero points
         * contribute sum_t p_t * zero_t per channel group, added once at the end.
         */
        private void accumulateVector(float[] p, int pOff, float[] out, int outOff) {
            for (int c0 = 0; c0 < width; c0 += PackedCodes.LANES) {
                int gi = c0 / group;
                FloatVector acc = FloatVector.fromArray(PackedCodes.F, out, outOff + c0);
                for (int t = 0; t < tokens; t++) {
                    float sc = p[pOff + t] * scale[gi * capacity + t];
                    acc = PackedCodes.unpack(codes.data, t * width + c0, bits).fma(FloatVector.broadcast(PackedCodes.F, sc), acc);
                }
                acc.intoArray(out, outOff + c0);
            }
            addZeroPoints(p, pOff, out, outOff);
        }

        /** out[c] += sum_t p_t * zero_t,g(c): the zero points' share, one sum per channel group. */
        private void addZeroPoints(float[] p, int pOff, float[] out, int outOff) {
            for (int gi = 0; gi < groupsPerRow; gi++) {
                float z = VectorMath.dot(p, pOff, zero, gi * capacity, tokens);
                int c1 = Math.min(width, gi * group + group);
                for (int c = gi * group; c < c1; c++) {
                    out[outOff + c] += z;
                }
            }
        }

        /** Codes and F16 scale and zero per (token, channel group) of the tokens held (not spare capacity). */
        @Override
        public long bytes() {
            return codes.bytesFor(tokens * width) + 2L * 2 * tokens * groupsPerRow;
        }

        @Override
        public void row(int t, float[] out, int outOff) {
            for (int c = 0; c < width; c++) {
                int gi = c / group;
                out[outOff + c] = codes.get(t * width + c) * scale[gi * capacity + t] + zero[gi * capacity + t];
            }
        }
    }
}
