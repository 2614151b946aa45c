package dev.think4j.kv;

import dev.think4j.tensor.Quantizer;
import dev.think4j.tensor.VectorMath;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import jdk.incubator.vector.FloatVector;

/**
 * KIVI's asymmetric low-bit layouts. Keys are quantized per channel over groups of G tokens (the
 * outlier structure of keys is per channel); values per token over groups of channels. Each group
 * has an F16 scale and zero point; codes are bit-packed (2-bit: four per byte, 4-bit: two).
 * Attention reads the codes in place.
 *
 * <p>Tokens live in pages that are filled and never copied: a page is sized once (the rows it is
 * built from, or, for decode-time appends, as many tokens as the store already holds, up to
 * {@link #PAGE_TOKENS}), so the memory held stays within one page of the bytes counted and growing
 * a store leaves no garbage behind. Pages are outside the Java heap ({@link NativePages}): the
 * process grows by what the store counts, not by what the collector makes of it. Scales and zero
 * points are stored as F16 bits, as counted, and widened to floats per page when attention reads
 * them.
 */
final class KiviStores {
    /** Largest page, in tokens: bounds the unused tail of the last page. */
    static final int PAGE_TOKENS = 1024;

    /** Per-thread float copies of a page's scales and zero points (attention runs heads in parallel). */
    private static final ThreadLocal<float[][]> WIDENED = ThreadLocal.withInitial(() -> new float[][] {new float[0], new float[0]});

    private KiviStores() {
    }

    /** Packed unsigned codes of a fixed bit width, in zeroed native memory. */
    static final class Codes {
        final int bits;
        final MemorySegment data;

        Codes(int bits, int count, NativePages memory) {
            this.bits = bits;
            this.data = memory.allocate(bytesFor(count, bits));
        }

        static long bytesFor(int count, int bits) {
            return (count * (long) bits + 7) / 8;
        }

        void set(int i, int code) {
            long bit = (long) i * bits;
            byte old = data.get(ValueLayout.JAVA_BYTE, bit >>> 3);
            data.set(ValueLayout.JAVA_BYTE, bit >>> 3, (byte) (old | code << (bit & 7)));
        }

        int get(int i) {
            long bit = (long) i * bits;
            return (data.get(ValueLayout.JAVA_BYTE, bit >>> 3) >>> (bit & 7)) & ((1 << bits) - 1);
        }
    }

    static int readBits(StateReader in) {
        int bits = in.u8();
        if (bits != 2 && bits != 4) {
            throw in.corrupt("KIVI codes of " + bits + " bits");
        }
        return bits;
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

    /** Tokens for a new page: all that remain to be stored if they fit, else as many as are held (grows geometrically). */
    static int pageTokens(int remaining, int held, int unit) {
        int max = Math.max(unit, PAGE_TOKENS / unit * unit);
        return Math.min(max, Math.max(remaining, (held / unit) * unit));
    }

    /**
     * Widens the first {@code used} halves of each of {@code rows} rows of {@code stride} halves
     * into the calling thread's scratch buffer {@code which} (0 or 1), at the same positions: a
     * page still filling holds fewer tokens or groups than it has room for.
     */
    private static float[] widen(MemorySegment halves, int rows, int stride, int used, int which) {
        float[][] w = WIDENED.get();
        if (w[which].length < rows * stride) {
            w[which] = new float[Math.max(rows * stride, PAGE_TOKENS * 2)];
        }
        if (used == stride) {
            VectorMath.halvesToFloats(halves, 0, w[which], 0, rows * stride);
        } else {
            for (int r = 0; r < rows; r++) {
                VectorMath.halvesToFloats(halves, (long) r * stride, w[which], r * stride, used);
            }
        }
        return w[which];
    }

    private static void setHalf(MemorySegment halves, int i, float f) {
        halves.setAtIndex(VectorMath.HALF, i, Float.floatToFloat16(f));
    }

    private static float getHalf(MemorySegment halves, int i) {
        return Float.float16ToFloat(halves.getAtIndex(VectorMath.HALF, i));
    }

    /** F16 storage for n halves. */
    private static MemorySegment halves(NativePages memory, int n) {
        return memory.allocate(2L * n);
    }

    /** Per-thread scratch of the grouped key kernel: scaled queries, zero-point terms, constants. */
    private static final class KeyScratch {
        float[] qs = new float[0];
        final float[][] terms = {new float[0], new float[0], new float[0], new float[0]};
        final float[] constant = new float[4];

        float[] terms(int j, int n) {
            if (terms[j].length < n) {
                terms[j] = new float[Math.max(n, PAGE_TOKENS)];
            }
            return terms[j];
        }
    }

    private static final ThreadLocal<KeyScratch> KEY_SCRATCH = ThreadLocal.withInitial(KeyScratch::new);

    /** What both stores share: their width, pages in native memory, and the tokens they hold. */
    private abstract static class PagedStore<P> implements Releasable {
        final int width;
        final NativePages memory = new NativePages(this);
        final List<P> pages = new ArrayList<>();
        int tokens;

        PagedStore(int width) {
            this.width = width;
        }

        public int tokens() {
            return tokens;
        }

        public int width() {
            return width;
        }

        @Override
        public void release() {
            memory.release();
            pages.clear();
            tokens = 0;
        }

        boolean isReleased() {
            return memory.isReleased();
        }
    }

    static final class Keys extends PagedStore<Keys.KeyPage> implements KeyStore {
        private final int group;
        private final int bits;

        /** Whole groups of tokens: codes channel-major within a group, F16 scale [group][channel], F16 zero [channel][group]. */
        private final class KeyPage {
            /** Groups the page has room for: the zero points' stride. */
            final int capacity;
            int groups;
            final Codes codes;
            final MemorySegment scale;
            final MemorySegment zero;

            KeyPage(int capacity) {
                this.capacity = capacity;
                this.codes = new Codes(bits, capacity * group * width, memory);
                this.scale = halves(memory, capacity * width);
                this.zero = halves(memory, capacity * width);
            }
        }

        /** rows.length must be a multiple of group. */
        Keys(float[][] rows, int width, int group, int bits) {
            super(width);
            this.group = group;
            this.bits = bits;
            appendRows(rows);
        }

        /** Quantizes and appends whole groups (decode-time flushes add one group at a time). */
        public void appendRows(float[][] rows) {
            if (rows.length % group != 0) {
                throw new IllegalArgumentException(rows.length + " tokens is not a multiple of the KIVI group " + group);
            }
            for (int first = 0; first < rows.length; first += group) {
                KeyPage page = pages.isEmpty() ? null : pages.getLast();
                if (page == null || page.groups == page.capacity) {
                    page = new KeyPage(pageTokens(rows.length - first, tokens, group) / group);
                    pages.add(page);
                }
                quantizeGroup(page, rows, first);
                tokens += group;
            }
        }

        private void quantizeGroup(KeyPage page, float[][] rows, int first) {
            int g = page.groups;
            for (int c = 0; c < width; c++) {
                float min = Float.POSITIVE_INFINITY;
                float max = Float.NEGATIVE_INFINITY;
                for (int t = 0; t < group; t++) {
                    float x = rows[first + t][c];
                    min = Math.min(min, x);
                    max = Math.max(max, x);
                }
                float[] sz = fit(min, max, bits);
                setHalf(page.scale, g * width + c, sz[0]);
                setHalf(page.zero, c * page.capacity + g, sz[1]);
                for (int t = 0; t < group; t++) {
                    page.codes.set((g * width + c) * group + t, code(rows[first + t][c], sz[0], sz[1], bits));
                }
            }
            page.groups++;
        }

        @Override
        public void scores(float[] q, int qOff, float[] out, int outOff) {
            scores(q, qOff, 0, 1, out, outOff, 0);
        }

        /**
         * Queries of a GQA group four at a time, so each packed word is decoded once for all four;
         * the rest one by one, with exactly the same per-lane operations.
         */
        @Override
        public void scores(float[] q, int qOff, int qStride, int nq, float[] out, int outOff, int outStride) {
            boolean vector = PackedCodes.VECTOR && group % PackedCodes.LANES == 0;
            KeyScratch scratch = KEY_SCRATCH.get();
            if (scratch.qs.length < 4 * width) {
                scratch.qs = new float[4 * width];
            }
            float[] qs = scratch.qs;
            float[] constant = scratch.constant;
            float[][] terms = scratch.terms;
            int start = 0;
            for (KeyPage page : pages) {
                float[] scale = widen(page.scale, 1, page.groups * width, page.groups * width, 0);
                float[] zero = widen(page.zero, width, page.capacity, page.groups, 1);
                int i = 0;
                if (vector) {
                    for (; i + 4 <= nq; i += 4) {
                        for (int j = 0; j < 4; j++) {
                            zeroTerms(page, zero, q, qOff + (i + j) * qStride, scratch.terms(j, page.groups));
                        }
                        for (int g = 0; g < page.groups; g++) {
                            for (int j = 0; j < 4; j++) {
                                constant[j] = terms[j][g];
                                VectorMath.multiply(q, qOff + (i + j) * qStride, scale, g * width, qs, j * width, width);
                            }
                            scoreGroup4(page, g, qs, constant, out, outOff + i * outStride + start + g * group, outStride);
                        }
                    }
                }
                for (; i < nq; i++) {
                    float[] zt = scratch.terms(0, page.groups);
                    zeroTerms(page, zero, q, qOff + i * qStride, zt);
                    int o = outOff + i * outStride + start;
                    for (int g = 0; g < page.groups; g++) {
                        VectorMath.multiply(q, qOff + i * qStride, scale, g * width, qs, 0, width);
                        if (vector) {
                            scoreGroup(page, g, qs, zt[g], out, o + g * group);
                        } else {
                            scoreGroupScalar(page, g, qs, zt[g], out, o + g * group);
                        }
                    }
                }
                start += page.groups * group;
            }
        }

        /**
         * The zero points' share of each group's scores, q . zero_g for every group g of the page
         * (score_t = that + (q * scale_g) . code_t), vectorised across groups in channel order, into
         * out[0 .. groups).
         */
        private void zeroTerms(KeyPage page, float[] zero, float[] q, int qOff, float[] out) {
            int groups = page.groups;
            int g = 0;
            if (PackedCodes.VECTOR) {
                for (; g + PackedCodes.LANES <= groups; g += PackedCodes.LANES) {
                    FloatVector acc = FloatVector.zero(PackedCodes.F);
                    for (int c = 0; c < width; c++) {
                        acc = FloatVector.fromArray(PackedCodes.F, zero, c * page.capacity + g)
                                .fma(FloatVector.broadcast(PackedCodes.F, q[qOff + c]), acc);
                    }
                    acc.intoArray(out, g);
                }
            }
            for (; g < groups; g++) {
                float acc = 0f;
                for (int c = 0; c < width; c++) {
                    acc = Math.fma(zero[c * page.capacity + g], q[qOff + c], acc);
                }
                out[g] = acc;
            }
        }

        private void scoreGroup4(KeyPage page, int g, float[] qs, float[] constant, float[] out, int o, int os) {
            MemorySegment data = page.codes.data;
            for (int t0 = 0; t0 < group; t0 += PackedCodes.LANES) {
                FloatVector a0 = FloatVector.broadcast(PackedCodes.F, constant[0]);
                FloatVector a1 = FloatVector.broadcast(PackedCodes.F, constant[1]);
                FloatVector a2 = FloatVector.broadcast(PackedCodes.F, constant[2]);
                FloatVector a3 = FloatVector.broadcast(PackedCodes.F, constant[3]);
                int first = g * width * group + t0;
                for (int c = 0; c < width; c++) {
                    FloatVector k = PackedCodes.unpack(data, first + c * group, bits);
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

        /** LANES tokens of a group at a time: each channel's codes for them are one packed word. */
        private void scoreGroup(KeyPage page, int g, float[] qs, float constant, float[] out, int o) {
            MemorySegment data = page.codes.data;
            for (int t0 = 0; t0 < group; t0 += PackedCodes.LANES) {
                FloatVector acc = FloatVector.broadcast(PackedCodes.F, constant);
                int first = g * width * group + t0;
                for (int c = 0; c < width; c++) {
                    acc = PackedCodes.unpack(data, first + c * group, bits).fma(FloatVector.broadcast(PackedCodes.F, qs[c]), acc);
                }
                acc.intoArray(out, o + t0);
            }
        }

        private void scoreGroupScalar(KeyPage page, int g, float[] qs, float constant, float[] out, int o) {
            for (int t = 0; t < group; t++) {
                float acc = constant;
                for (int c = 0; c < width; c++) {
                    acc += qs[c] * page.codes.get((g * width + c) * group + t);
                }
                out[o + t] = acc;
            }
        }

        /** Codes and F16 scale and zero per (group, channel) of the tokens held (not a page's unused room). */
        @Override
        public long bytes() {
            long codes = 0;
            for (KeyPage page : pages) {
                codes += Codes.bytesFor(page.groups * group * width, bits);
            }
            return codes + 2L * 2 * (tokens / group) * width;
        }

        /**
         * Session files: width, group, bits, tokens, then each page as held (its room, the groups
         * filled, their packed codes, F16 scales and zero points), so a loaded store grows and
         * sums exactly as the saved one would have.
         */
        void write(StateWriter out) {
            out.i32(width).i32(group).u8(bits).i32(tokens).i32(pages.size());
            for (KeyPage page : pages) {
                out.i32(page.capacity).i32(page.groups);
                out.bytes(page.codes.data, 0, Codes.bytesFor(page.groups * group * width, bits));
                out.bytes(page.scale, 0, 2L * page.groups * width);
                for (int c = 0; c < width; c++) {
                    out.bytes(page.zero, 2L * c * page.capacity, 2L * page.groups);
                }
            }
        }

        static Keys read(StateReader in, int maxWidth) {
            int width = in.count("KIVI key width", 1, maxWidth);
            int group = in.count("KIVI group", 1, 1 << 20);
            int bits = readBits(in);
            int tokens = in.count("KIVI key tokens", 0, Integer.MAX_VALUE);
            int pageCount = in.count("KIVI key pages", 0, in.remaining() / 8);
            Keys k = new Keys(new float[0][], width, group, bits);
            int held = 0;
            for (int p = 0; p < pageCount; p++) {
                int capacity = in.count("KIVI page room", 1, Math.max(1, PAGE_TOKENS / group) + 1);
                int groups = in.count("KIVI page groups", 1, capacity);
                // pages are sized by what they are filled with or what the store held before (pageTokens),
                // so a crafted file cannot claim native room far beyond the tokens it carries
                if (capacity > Math.max(groups, held / group)) {
                    throw in.corrupt("a KIVI key page with room for " + capacity + " groups after " + held + " tokens");
                }
                KeyPage page = k.new KeyPage(capacity);
                in.bytes(page.codes.data, 0, Codes.bytesFor(groups * group * width, bits));
                in.bytes(page.scale, 0, 2L * groups * width);
                for (int c = 0; c < width; c++) {
                    in.bytes(page.zero, 2L * c * capacity, 2L * groups);
                }
                page.groups = groups;
                k.pages.add(page);
                held += groups * group;
            }
            if (held != tokens) {
                throw in.corrupt("KIVI key pages hold " + held + " tokens, the store says " + tokens);
            }
            k.tokens = tokens;
            return k;
        }

        @Override
        public void row(int t, float[] out, int outOff) {
            int g = t / group;
            for (KeyPage page : pages) {
                if (g < page.groups) {
                    for (int c = 0; c < width; c++) {
                        out[outOff + c] = page.codes.get((g * width + c) * group + t % group)
                                * getHalf(page.scale, g * width + c) + getHalf(page.zero, c * page.capacity + g);
                    }
                    return;
                }
                g -= page.groups;
            }
            throw new IndexOutOfBoundsException("token " + t + " of " + tokens);
        }
    }

    static final class Values extends PagedStore<Values.ValuePage> implements ValueStore {
        /** Per-thread p_t * scale_t for the grouped kernel (one row per query head). */
        private static final ThreadLocal<float[]> WEIGHTS = ThreadLocal.withInitial(() -> new float[0]);
        private final int group;
        private final int bits;
        private final int groupsPerRow;

        /** Token-major codes; F16 scale and zero per [channel group][token], stride = capacity. */
        private final class ValuePage {
            final int capacity;
            int tokens;
            final Codes codes;
            final MemorySegment scale;
            final MemorySegment zero;

            ValuePage(int capacity) {
                this.capacity = capacity;
                this.codes = new Codes(bits, capacity * width, memory);
                this.scale = halves(memory, capacity * groupsPerRow);
                this.zero = halves(memory, capacity * groupsPerRow);
            }
        }

        Values(float[][] rows, int width, int group, int bits) {
            super(width);
            this.group = Math.min(group, width);
            this.bits = bits;
            this.groupsPerRow = (width + this.group - 1) / this.group;
            appendRows(rows);
        }

        public void appendRows(float[][] rows) {
            for (int i = 0; i < rows.length; i++) {
                ValuePage page = pages.isEmpty() ? null : pages.getLast();
                if (page == null || page.tokens == page.capacity) {
                    page = new ValuePage(pageTokens(rows.length - i, tokens, 1));
                    pages.add(page);
                }
                quantizeRow(page, rows[i]);
                tokens++;
            }
        }

        private void quantizeRow(ValuePage page, float[] row) {
            int t = page.tokens;
            for (int gi = 0; gi < groupsPerRow; gi++) {
                int c0 = gi * group;
                int c1 = Math.min(width, c0 + group);
                float min = Float.POSITIVE_INFINITY;
                float max = Float.NEGATIVE_INFINITY;
                for (int c = c0; c < c1; c++) {
                    min = Math.min(min, row[c]);
                    max = Math.max(max, row[c]);
                }
                float[] sz = fit(min, max, bits);
                setHalf(page.scale, gi * page.capacity + t, sz[0]);
                setHalf(page.zero, gi * page.capacity + t, sz[1]);
                for (int c = c0; c < c1; c++) {
                    page.codes.set(t * width + c, code(row[c], sz[0], sz[1], bits));
                }
            }
            page.tokens++;
        }

        @Override
        public void accumulate(float[] p, int pOff, float[] out, int outOff) {
            accumulate(p, pOff, 0, 1, out, outOff, 0);
        }

        /**
         * Weight rows of a GQA group four at a time, so each packed word is decoded once for all
         * four; the rest one by one, with exactly the same per-lane operations.
         */
        @Override
        public void accumulate(float[] p, int pOff, int pStride, int np, float[] out, int outOff, int outStride) {
            boolean vector = PackedCodes.VECTOR && width % PackedCodes.LANES == 0 && group % PackedCodes.LANES == 0;
            int start = 0;
            for (ValuePage page : pages) {
                float[] scale = widen(page.scale, groupsPerRow, page.capacity, page.tokens, 0);
                float[] zero = widen(page.zero, groupsPerRow, page.capacity, page.tokens, 1);
                int i = 0;
                if (vector) {
                    for (; i + 4 <= np; i += 4) {
                        accumulate4(page, scale, p, pOff + start + i * pStride, pStride, out, outOff + i * outStride, outStride);
                        for (int j = 0; j < 4; j++) {
                            addZeroPoints(page, zero, p, pOff + start + (i + j) * pStride, out, outOff + (i + j) * outStride);
                        }
                    }
                }
                for (; i < np; i++) {
                    int pi = pOff + start + i * pStride;
                    int oi = outOff + i * outStride;
                    if (vector) {
                        accumulate1(page, scale, p, pi, out, oi);
                        addZeroPoints(page, zero, p, pi, out, oi);
                    } else {
                        accumulateScalar(page, scale, zero, p, pi, out, oi);
                    }
                }
                start += page.tokens;
            }
        }

        private void accumulate4(ValuePage page, float[] scale, float[] p, int p0, int ps, float[] out, int o, int os) {
            int n = page.tokens;
            float[] w = WEIGHTS.get();
            if (w.length < 4 * n) {
                w = new float[4 * Math.max(n, PAGE_TOKENS)];
                WEIGHTS.set(w);
            }
            MemorySegment data = page.codes.data;
            for (int gi = 0; gi < groupsPerRow; gi++) {
                for (int j = 0; j < 4; j++) {
                    VectorMath.multiply(p, p0 + j * ps, scale, gi * page.capacity, w, j * n, n);
                }
                int c1 = Math.min(width, gi * group + group);
                for (int c0 = gi * group; c0 < c1; c0 += PackedCodes.LANES) {
                    FloatVector a0 = FloatVector.fromArray(PackedCodes.F, out, o + c0);
                    FloatVector a1 = FloatVector.fromArray(PackedCodes.F, out, o + os + c0);
                    FloatVector a2 = FloatVector.fromArray(PackedCodes.F, out, o + 2 * os + c0);
                    FloatVector a3 = FloatVector.fromArray(PackedCodes.F, out, o + 3 * os + c0);
                    for (int t = 0; t < n; t++) {
                        FloatVector v = PackedCodes.unpack(data, t * width + c0, bits);
                        a0 = v.fma(FloatVector.broadcast(PackedCodes.F, w[t]), a0);
                        a1 = v.fma(FloatVector.broadcast(PackedCodes.F, w[n + t]), a1);
                        a2 = v.fma(FloatVector.broadcast(PackedCodes.F, w[2 * n + t]), a2);
                        a3 = v.fma(FloatVector.broadcast(PackedCodes.F, w[3 * n + t]), a3);
                    }
                    a0.intoArray(out, o + c0);
                    a1.intoArray(out, o + os + c0);
                    a2.intoArray(out, o + 2 * os + c0);
                    a3.intoArray(out, o + 3 * os + c0);
                }
            }
        }

        /** LANES output channels at a time held in a register across the page's tokens. */
        private void accumulate1(ValuePage page, float[] scale, float[] p, int pOff, float[] out, int outOff) {
            MemorySegment data = page.codes.data;
            for (int c0 = 0; c0 < width; c0 += PackedCodes.LANES) {
                int gi = c0 / group;
                FloatVector acc = FloatVector.fromArray(PackedCodes.F, out, outOff + c0);
                for (int t = 0; t < page.tokens; t++) {
                    float sc = p[pOff + t] * scale[gi * page.capacity + t];
                    acc = PackedCodes.unpack(data, t * width + c0, bits).fma(FloatVector.broadcast(PackedCodes.F, sc), acc);
                }
                acc.intoArray(out, outOff + c0);
            }
        }

        private void accumulateScalar(ValuePage page, float[] scale, float[] zero, float[] p, int pOff, float[] out, int outOff) {
            for (int t = 0; t < page.tokens; t++) {
                float pt = p[pOff + t];
                for (int gi = 0; gi < groupsPerRow; gi++) {
                    float sc = pt * scale[gi * page.capacity + t];
                    float zr = pt * zero[gi * page.capacity + t];
                    int c1 = Math.min(width, gi * group + group);
                    for (int c = gi * group; c < c1; c++) {
                        out[outOff + c] += sc * page.codes.get(t * width + c) + zr;
                    }
                }
            }
        }

        /** out[c] += sum_t p_t * zero_t,g(c): the zero points' share, one sum per channel group. */
        private void addZeroPoints(ValuePage page, float[] zero, float[] p, int pOff, float[] out, int outOff) {
            for (int gi = 0; gi < groupsPerRow; gi++) {
                float z = VectorMath.dot(p, pOff, zero, gi * page.capacity, page.tokens);
                int c1 = Math.min(width, gi * group + group);
                for (int c = gi * group; c < c1; c++) {
                    out[outOff + c] += z;
                }
            }
        }

        /** Codes and F16 scale and zero per (token, channel group) of the tokens held (not a page's unused room). */
        @Override
        public long bytes() {
            long codes = 0;
            for (ValuePage page : pages) {
                codes += Codes.bytesFor(page.tokens * width, bits);
            }
            return codes + 2L * 2 * tokens * groupsPerRow;
        }

        /** Session files: as {@link Keys#write}, pages with their room, tokens, codes, scales and zero points. */
        void write(StateWriter out) {
            out.i32(width).i32(group).u8(bits).i32(tokens).i32(pages.size());
            for (ValuePage page : pages) {
                out.i32(page.capacity).i32(page.tokens);
                out.bytes(page.codes.data, 0, Codes.bytesFor(page.tokens * width, bits));
                for (int gi = 0; gi < groupsPerRow; gi++) {
                    out.bytes(page.scale, 2L * gi * page.capacity, 2L * page.tokens);
                    out.bytes(page.zero, 2L * gi * page.capacity, 2L * page.tokens);
                }
            }
        }

        static Values read(StateReader in, int maxWidth) {
            int width = in.count("KIVI value width", 1, maxWidth);
            int group = in.count("KIVI group", 1, width);
            int bits = readBits(in);
            int tokens = in.count("KIVI value tokens", 0, Integer.MAX_VALUE);
            int pageCount = in.count("KIVI value pages", 0, in.remaining() / 8);
            Values v = new Values(new float[0][], width, group, bits);
            int held = 0;
            for (int p = 0; p < pageCount; p++) {
                int capacity = in.count("KIVI page room", 1, PAGE_TOKENS);
                int used = in.count("KIVI page tokens", 1, capacity);
                if (capacity > Math.max(used, held)) {
                    throw in.corrupt("a KIVI value page with room for " + capacity + " tokens after " + held);
                }
                ValuePage page = v.new ValuePage(capacity);
                in.bytes(page.codes.data, 0, Codes.bytesFor(used * width, bits));
                for (int gi = 0; gi < v.groupsPerRow; gi++) {
                    in.bytes(page.scale, 2L * gi * capacity, 2L * used);
                    in.bytes(page.zero, 2L * gi * capacity, 2L * used);
                }
                page.tokens = used;
                v.pages.add(page);
                held += used;
            }
            if (held != tokens) {
                throw in.corrupt("KIVI value pages hold " + held + " tokens, the store says " + tokens);
            }
            v.tokens = tokens;
            return v;
        }

        @Override
        public void row(int token, float[] out, int outOff) {
            int t = token;
            for (ValuePage page : pages) {
                if (t < page.tokens) {
                    for (int c = 0; c < width; c++) {
                        int at = (c / group) * page.capacity + t;
                        out[outOff + c] = page.codes.get(t * width + c) * getHalf(page.scale, at) + getHalf(page.zero, at);
                    }
                    return;
                }
                t -= page.tokens;
            }
            throw new IndexOutOfBoundsException("token " + token + " of " + tokens);
        }
    }
}
