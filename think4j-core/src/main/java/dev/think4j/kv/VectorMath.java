package dev.think4j.kv;

import dev.think4j.tensor.Vectors;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/** Small float kernels used by attention over cached rows. */
public final class VectorMath {
    private static final VectorSpecies<Float> S = Vectors.FLOAT;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, S.vectorShape());
    /** F16 bits as the KIVI pages store them. */
    static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Per-thread copy of the halves being widened (see {@link #halvesToFloats(MemorySegment, long, float[], int, int)}). */
    private static final ThreadLocal<short[]> HALF_SCRATCH = ThreadLocal.withInitial(() -> new short[0]);
    /** Halves widened to S's lanes: half the bits. */
    private static final VectorSpecies<Short> HALVES = VectorSpecies.of(short.class, VectorShape.forBitSize(Math.max(64, S.vectorBitSize() / 2)));

    private VectorMath() {
    }

    /**
     * Sums a vector's lanes left to right. reduceLanes(ADD) may add in a different order when the
     * JIT intrinsifies it than in the interpreter, which made identical inputs give different bits
     * depending on warm-up; a fixed order keeps batched and single runs bit-identical.
     *
     * <p>Callers call this on every path, also when their vector loop ran zero times (n below the
     * lane count). A vector argument must be inlined to stay in a register; C2 inlines a small
     * method at a call site it sees as cold only if the method has no large compiled copy of its
     * own, and this one has. Guarded by {@code if (upper > 0)}, the call looked cold whenever many
     * calls were short (KIVI's first pages hold a few tokens), and then every call boxed its vector.
     */
    public static float sumLanes(FloatVector v) {
        float s = 0f;
        for (int i = 0; i < v.length(); i++) {
            s += v.lane(i);
        }
        return s;
    }

    public static float dot(float[] a, int ao, float[] b, int bo, int n) {
        int i = 0;
        int upper = S.loopBound(n);
        FloatVector acc = FloatVector.zero(S);
        for (; i < upper; i += S.length()) {
            acc = FloatVector.fromArray(S, a, ao + i).fma(FloatVector.fromArray(S, b, bo + i), acc);
        }
        float sum = sumLanes(acc); // on every path: see sumLanes
        for (; i < n; i++) {
            sum += a[ao + i] * b[bo + i];
        }
        return sum;
    }

    /** out[oo + i] = a[ao + i] * b[bo + i]. */
    public static void multiply(float[] a, int ao, float[] b, int bo, float[] out, int oo, int n) {
        int i = 0;
        int upper = S.loopBound(n);
        for (; i < upper; i += S.length()) {
            FloatVector.fromArray(S, a, ao + i).mul(FloatVector.fromArray(S, b, bo + i)).intoArray(out, oo + i);
        }
        for (; i < n; i++) {
            out[oo + i] = a[ao + i] * b[bo + i];
        }
    }

    /** y[yo + i] += a * x[xo + i]. */
    public static void axpy(float a, float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        int upper = S.loopBound(n);
        if (upper > 0) {
            FloatVector va = FloatVector.broadcast(S, a);
            for (; i < upper; i += S.length()) {
                FloatVector.fromArray(S, x, xo + i).fma(va, FloatVector.fromArray(S, y, yo + i)).intoArray(y, yo + i);
            }
        }
        for (; i < n; i++) {
            y[yo + i] += a * x[xo + i];
        }
    }

    /**
     * In-place softmax of v[off .. off+n). Exponentials use {@link #exp} (vector lanes and scalar
     * remainder share one formula), sums run in a fixed order, so results do not depend on JIT state.
     */
    public static void softmax(float[] v, int off, int n) {
        softmax(v, off, n, 1f);
    }

    /**
     * Softmax of scale * v[off .. off+n) in place (attention passes 1/sqrt(D) here). Each pass is its
     * own method and no vector crosses a call: a vector handed to a helper that C2 declines to
     * inline (it does so when it compiles the caller while the call site still looks cold) becomes
     * an object on every iteration. That happened at random to the former exp(FloatVector) helper,
     * and cost 7x the garbage and 15% of decode speed when it did.
     */
    public static void softmax(float[] v, int off, int n, float scale) {
        if (n < SCALAR_SOFTMAX_BELOW) {
            float max = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) {
                max = Math.max(max, v[off + i]);
            }
            float inv = 1f / expInPlaceScalar(v, off, n, max, scale);
            for (int i = 0; i < n; i++) {
                v[off + i] *= inv;
            }
            return;
        }
        float max = max(v, off, n);
        float sum = expInPlace(v, off, n, max, scale);
        multiplyInPlace(v, off, n, 1f / sum);
    }

    /**
     * Rows shorter than this take {@link #expInPlaceScalar}, which gives the same bits. Vector API
     * code runs hundreds of times slower until C2 has compiled it, and a short generation on a
     * small model (the bundled one) spent a third of its time in the vector exponential before that.
     */
    static final int SCALAR_SOFTMAX_BELOW = 256;

    private static float max(float[] v, int off, int n) {
        int i = 0;
        int upper = S.loopBound(n);
        float max = Float.NEGATIVE_INFINITY;
        if (upper > 0) {
            FloatVector vmax = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            for (; i < upper; i += S.length()) {
                vmax = vmax.max(FloatVector.fromArray(S, v, off + i));
            }
            max = vmax.reduceLanes(VectorOperators.MAX);
        }
        for (; i < n; i++) {
            max = Math.max(max, v[off + i]);
        }
        return max;
    }

    /**
     * v[i] = exp((v[i] - max) * scale), returning their sum (lanes summed left to right, then the
     * tail). The vector loop is {@link #exp(float)} on every lane, with the same operations in the
     * same order, written out here rather than called (see {@link #softmax}).
     */
    static float expInPlace(float[] v, int off, int n, float max, float scale) {
        int i = 0;
        int upper = S.loopBound(n);
        FloatVector vmax = FloatVector.broadcast(S, max);
        FloatVector vscale = FloatVector.broadcast(S, scale);
        FloatVector acc = FloatVector.zero(S);
        for (; i < upper; i += S.length()) {
            FloatVector x = FloatVector.fromArray(S, v, off + i).sub(vmax).mul(vscale).max(MIN_ARG);
            FloatVector t = x.fma(LOG2E, ROUND);
            FloatVector k = t.sub(ROUND);
            FloatVector r = k.fma(FloatVector.broadcast(S, -LN2_HI), x);
            r = k.fma(FloatVector.broadcast(S, -LN2_LO), r);
            FloatVector p = FloatVector.broadcast(S, 1f / 5040);
            p = p.fma(r, FloatVector.broadcast(S, 1f / 720));
            p = p.fma(r, FloatVector.broadcast(S, 1f / 120));
            p = p.fma(r, FloatVector.broadcast(S, 1f / 24));
            p = p.fma(r, FloatVector.broadcast(S, 1f / 6));
            p = p.fma(r, FloatVector.broadcast(S, 0.5f));
            p = p.fma(r, FloatVector.broadcast(S, 1f));
            p = p.fma(r, FloatVector.broadcast(S, 1f));
            IntVector bits = ((IntVector) k.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
            FloatVector e = p.mul(bits.reinterpretAsFloats());
            e.intoArray(v, off + i);
            acc = acc.add(e);
        }
        float sum = sumLanes(acc); // on every path: see sumLanes
        for (; i < n; i++) {
            float e = exp((v[off + i] - max) * scale);
            v[off + i] = e;
            sum += e;
        }
        return sum;
    }

    /**
     * {@link #expInPlace} in scalar code, lane for lane: element i's exponential is the same formula,
     * its sum goes to lane i mod LANES in the same order, lanes are summed left to right, then the
     * tail. The bits are the same, so the choice between the two never shows in results.
     */
    static float expInPlaceScalar(float[] v, int off, int n, float max, float scale) {
        int lanes = S.length();
        int upper = S.loopBound(n);
        float[] acc = new float[lanes];
        int i = 0;
        for (; i < upper; i++) {
            float e = exp((v[off + i] - max) * scale);
            v[off + i] = e;
            acc[i % lanes] += e;
        }
        float sum = 0f;
        for (float a : acc) {
            sum += a;
        }
        for (; i < n; i++) {
            float e = exp((v[off + i] - max) * scale);
            v[off + i] = e;
            sum += e;
        }
        return sum;
    }

    private static void multiplyInPlace(float[] v, int off, int n, float factor) {
        int i = 0;
        int upper = S.loopBound(n);
        if (upper > 0) {
            FloatVector f = FloatVector.broadcast(S, factor);
            for (; i < upper; i += S.length()) {
                FloatVector.fromArray(S, v, off + i).mul(f).intoArray(v, off + i);
            }
        }
        for (; i < n; i++) {
            v[off + i] *= factor;
        }
    }

    private static final float LOG2E = 1.44269504f;
    private static final float LN2_HI = 0.693145752f;
    private static final float LN2_LO = 1.42860677e-6f;
    /** 1.5 * 2^23: adding it rounds a float of magnitude below 2^22 to an integer. */
    private static final float ROUND = 12582912f;
    private static final float MIN_ARG = -87f;

    /**
     * e^x for x <= 0 (softmax arguments after subtracting the max), within about 2 ulp; arguments
     * below -87 give about 1.6e-38 instead of underflowing. Range reduction x = n ln2 + r with
     * |r| <= ln2/2, a degree-7 Taylor polynomial, then 2^n through the exponent bits.
     */
    public static float exp(float x) {
        x = Math.max(x, MIN_ARG);
        float t = Math.fma(x, LOG2E, ROUND);
        float n = t - ROUND;
        float r = Math.fma(n, -LN2_HI, x);
        r = Math.fma(n, -LN2_LO, r);
        float p = 1f / 5040;
        p = Math.fma(p, r, 1f / 720);
        p = Math.fma(p, r, 1f / 120);
        p = Math.fma(p, r, 1f / 24);
        p = Math.fma(p, r, 1f / 6);
        p = Math.fma(p, r, 0.5f);
        p = Math.fma(p, r, 1f);
        p = Math.fma(p, r, 1f);
        return p * Float.intBitsToFloat(((int) n + 127) << 23);
    }

    /**
     * Widens n little-endian halves of {@code in}, starting at half number {@code from}, into
     * out[to ..] (the F16 scales and zero points of KIVI pages). The halves are copied to a short[]
     * first: read straight from the segment, the same vector loop left the attention kernels that
     * C2 compiled together with it boxing their vectors (hundreds of young collections a second in
     * an 8,000-token KIVI run, twice; with the copy, the same runs collected a few times a second).
     */
    public static void halvesToFloats(MemorySegment in, long from, float[] out, int to, int n) {
        short[] copy = HALF_SCRATCH.get();
        if (copy.length < n) {
            copy = new short[n];
            HALF_SCRATCH.set(copy);
        }
        MemorySegment.copy(in, HALF, from * Short.BYTES, copy, 0, n);
        halvesToFloats(copy, 0, out, to, n);
    }

    /**
     * out[to + i] = Float.float16ToFloat(in[from + i]) for finite halves, LANES at a time: a half's
     * magnitude bits shifted into float position are a float 2^112 too small, for normal and
     * subnormal halves alike, so one multiply rescales it exactly; the sign comes from the
     * sign-extended short.
     */
    static void halvesToFloats(short[] in, int from, float[] out, int to, int n) {
        int i = 0;
        if (HALVES.length() == S.length()) {
            FloatVector rescale = FloatVector.broadcast(S, 0x1p112f);
            for (int upper = S.loopBound(n); i < upper; i += S.length()) {
                IntVector h = (IntVector) ShortVector.fromArray(HALVES, in, from + i).convertShape(VectorOperators.S2I, I, 0);
                FloatVector magnitude = h.and(0x7FFF).lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(rescale);
                magnitude.reinterpretAsInts().or(h.and(0x80000000)).reinterpretAsFloats().intoArray(out, to + i);
            }
        }
        for (; i < n; i++) {
            out[to + i] = Float.float16ToFloat(in[from + i]);
        }
    }
}
