package dev.think4j.kv;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The cache of one (layer, KV head): compressed segments (oldest first) followed by a dense,
 * full-width tail that new tokens append to. The plan chosen at the last compression point (kept
 * channels, encoder) is remembered so decode-time flushes store tokens the same way.
 */
public final class HeadCache {
    private final int layer;
    private final int kvHead;
    private final int headDim;
    private final List<Segment> segments = new ArrayList<>();
    private FloatKeyBlocks tailKeys;
    private FloatRows tailValues;

    private int[] keyChannels;
    private int[] valueChannels;
    private SegmentEncoder encoder = SegmentEncoder.FLOAT;
    private int protectedTail = -1;
    /** Per-press working state (e.g. H2O's accumulated attention), keyed by the press. */
    private final Map<Object, Object> pressState = new java.util.HashMap<>();

    public HeadCache(int layer, int kvHead, int headDim) {
        this.layer = layer;
        this.kvHead = kvHead;
        this.headDim = headDim;
        this.tailKeys = new FloatKeyBlocks(headDim, 16);
        this.tailValues = new FloatRows(headDim, 16);
    }

    public int layer() {
        return layer;
    }

    public int kvHead() {
        return kvHead;
    }

    public int headDim() {
        return headDim;
    }

    public void append(float[] k, int kOff, float[] v, int vOff) {
        tailKeys.append(k, kOff);
        tailValues.append(v, vOff);
    }

    public int length() {
        int n = tailKeys.tokens();
        for (Segment s : segments) {
            n += s.tokens();
        }
        return n;
    }

    public List<Segment> segments() {
        return Collections.unmodifiableList(segments);
    }

    public FloatKeyBlocks tailKeys() {
        return tailKeys;
    }

    public FloatRows tailValues() {
        return tailValues;
    }

    public int tailLength() {
        return tailKeys.tokens();
    }

    public int[] keyChannels() {
        return keyChannels;
    }

    public int[] valueChannels() {
        return valueChannels;
    }

    public SegmentEncoder encoder() {
        return encoder;
    }

    /** Recent tokens the last compression plan kept full width (-1 before any compression). */
    public int protectedTail() {
        return protectedTail;
    }

    /** State a press keeps for this head; created on first use. */
    @SuppressWarnings("unchecked")
    public <T> T state(Object press, java.util.function.Supplier<T> create) {
        return (T) pressState.computeIfAbsent(press, k -> create.get());
    }

    public void setState(Object press, Object value) {
        pressState.put(press, value);
    }

    /**
     * Attention of one query head: softmax(q . k / sqrt(D)) over segments then tail, values summed
     * into out[outOff .. outOff + D). logits must hold {@link #length()} floats; scratch >= D floats.
     */
    public void attend(float[] q, int qOff, float[] out, int outOff, float scale, float[] logits, float[] scratch) {
        attend(q, qOff, 1, out, outOff, scale, logits, scratch);
    }

    /**
     * Attention of the {@code nq} query heads that share this KV head (heads side by side in q and
     * out, D floats each): every key and value is read, and decoded, once for all of them. logits
     * must hold nq * {@link #length()} floats (head i's probabilities end up at i * length());
     * scratch at least nq * D.
     */
    public void attend(float[] q, int qOff, int nq, float[] out, int outOff, float scale, float[] logits, float[] scratch) {
        int n = scores(q, qOff, nq, logits, scratch);
        for (int i = 0; i < nq; i++) {
            VectorMath.softmax(logits, i * n, n, scale);
        }
        java.util.Arrays.fill(out, outOff, outOff + nq * headDim, 0f);
        int off = 0;
        for (Segment s : segments) {
            s.accumulate(logits, off, n, nq, out, outOff, headDim, scratch);
            off += s.tokens();
        }
        tailValues.accumulate(logits, off, n, nq, out, outOff, headDim);
    }

    /** Unscaled logits of q against every cached token, in cache order; returns the token count. */
    public int scores(float[] q, int qOff, float[] logits, float[] scratch) {
        return scores(q, qOff, 1, logits, scratch);
    }

    /** Unscaled logits of nq adjacent query heads; head i's start at i * (returned token count). */
    private int scores(float[] q, int qOff, int nq, float[] logits, float[] scratch) {
        int n = length();
        int off = 0;
        for (Segment s : segments) {
            s.scores(q, qOff, headDim, nq, logits, off, n, scratch);
            off += s.tokens();
        }
        tailKeys.scores(q, qOff, headDim, nq, logits, off, n);
        return n;
    }

    /** Rebuilds the tail according to a compression plan made from it (see {@link HeadCompression}). */
    void apply(HeadCompression plan) {
        int[] kept = plan.keptTokens();
        int tail = plan.fullWidthTail();
        int body = kept.length - tail;
        float[][] keys = plan.keys();
        float[][] values = plan.values();
        int encoded = plan.encodedPrefix(body);
        addBody(plan, kept, 0, encoded, plan.encoder());
        addBody(plan, kept, encoded, body, SegmentEncoder.FLOAT);
        FloatKeyBlocks newKeys = new FloatKeyBlocks(headDim, tail + 16);
        FloatRows newValues = new FloatRows(headDim, tail + 16);
        for (int i = body; i < kept.length; i++) {
            newKeys.append(keys[kept[i]], 0);
            newValues.append(values[kept[i]], 0);
        }
        tailKeys = newKeys;
        tailValues = newValues;
        if (plan.compressionRequested()) {
            keyChannels = plan.keyChannels();
            valueChannels = plan.valueChannels();
            encoder = plan.encoder();
            protectedTail = plan.fullWidthTail();
        }
        pressState.putAll(plan.attachments());
    }

    /**
     * Drops the tokens at the given cache-order indices (increasing; segments first, then the tail).
     * Works on stores that can remove rows (float storage); quantized groups cannot lose single tokens.
     */
    public void evict(int[] indices) {
        if (indices.length == 0) {
            return;
        }
        int base = 0;
        int i = 0;
        List<Segment> next = new ArrayList<>();
        for (Segment s : segments) {
            int n = s.tokens();
            int from = i;
            while (i < indices.length && indices[i] < base + n) {
                i++;
            }
            if (i > from) {
                if (!(s.keys() instanceof RowRemovable rk) || !(s.values() instanceof RowRemovable rv)) {
                    throw new dev.think4j.Think4jException("decode-time eviction cannot remove single tokens from "
                            + s.keys().getClass().getSimpleName() + " storage; combine h2o/streamingllm with float or pruned storage");
                }
                int[] keep = keepList(n, indices, from, i, base);
                rk.retain(keep);
                rv.retain(keep);
            }
            if (s.tokens() > 0) {
                next.add(s);
            }
            base += n;
        }
        setSegments(next);
        if (i < indices.length) {
            retainTail(keepList(tailKeys.tokens(), indices, i, indices.length, base));
        }
    }

    private static int[] keepList(int n, int[] drop, int from, int to, int base) {
        int[] keep = new int[n - (to - from)];
        int k = 0;
        int d = from;
        for (int t = 0; t < n; t++) {
            if (d < to && drop[d] - base == t) {
                d++;
            } else {
                keep[k++] = t;
            }
        }
        return keep;
    }

    private void addBody(HeadCompression plan, int[] kept, int from, int to, SegmentEncoder enc) {
        if (to <= from) {
            return;
        }
        float[][] bodyKeys = new float[to - from][];
        float[][] bodyValues = new float[to - from][];
        for (int i = from; i < to; i++) {
            bodyKeys[i - from] = gather(plan.keys()[kept[i]], plan.keyChannels());
            bodyValues[i - from] = gather(plan.values()[kept[i]], plan.valueChannels());
        }
        addSegment(bodyKeys, bodyValues, plan.keyChannels(), plan.valueChannels(), enc);
    }

    /**
     * Moves the oldest {@code count} tail tokens into compressed storage with the current plan
     * (kept channels and encoder), so memory keeps shrinking during long generations.
     */
    public void flush(int count) {
        if (count <= 0) {
            return;
        }
        if (count > tailKeys.tokens()) {
            throw new IllegalArgumentException("cannot flush " + count + " of " + tailKeys.tokens() + " tail tokens");
        }
        float[][] k = new float[count][];
        float[][] v = new float[count][];
        float[] full = new float[headDim];
        for (int i = 0; i < count; i++) {
            tailKeys.row(i, full, 0);
            k[i] = gather(full, keyChannels);
            tailValues.row(i, full, 0);
            v[i] = gather(full, valueChannels);
        }
        Segment last = segments.isEmpty() ? null : segments.getLast();
        if (encoder.appendable() && last != null && last.keys() instanceof AppendableStore lk
                && last.values() instanceof AppendableStore lv && last.keyChannels() == keyChannels
                && last.valueChannels() == valueChannels && last.keys().getClass() == encoder.keyStoreClass()) {
            lk.appendRows(k);
            lv.appendRows(v);
        } else {
            addSegment(k, v, keyChannels, valueChannels, encoder);
        }
        tailKeys.removeFirst(count);
        tailValues.removeFirst(count);
    }

    /** Keeps only the given tail rows (increasing indices): decode-time eviction. */
    public void retainTail(int[] rows) {
        tailKeys.retain(rows);
        tailValues.retain(rows);
    }

    /** Replaces the segment list (eviction presses that drop or rebuild segments). */
    public void replaceSegments(List<Segment> next) {
        setSegments(next);
    }

    /** Frees the memory of every segment's stores; the head is empty afterwards (a cache being cleared). */
    public void release() {
        setSegments(List.of());
    }

    /** Installs {@code next}, releasing the stores of dropped segments that {@code next} does not reuse. */
    private void setSegments(List<Segment> next) {
        Set<Object> kept = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Segment s : next) {
            kept.add(s.keys());
            kept.add(s.values());
        }
        for (Segment s : segments) {
            if (!kept.contains(s.keys())) {
                s.keys().release();
            }
            if (!kept.contains(s.values())) {
                s.values().release();
            }
        }
        List<Segment> copy = List.copyOf(next);
        segments.clear();
        segments.addAll(copy);
    }

    private void addSegment(float[][] k, float[][] v, int[] kc, int[] vc, SegmentEncoder enc) {
        int kw = kc == null ? headDim : kc.length;
        int vw = vc == null ? headDim : vc.length;
        segments.add(new Segment(enc.encodeKeys(k, kw), kc, enc.encodeValues(v, vw), vc));
    }

    private static float[] gather(float[] row, int[] channels) {
        if (channels == null) {
            return row.clone();
        }
        float[] out = new float[channels.length];
        for (int c = 0; c < channels.length; c++) {
            out[c] = row[channels[c]];
        }
        return out;
    }

    /**
     * Exact bytes held: every segment's stores, each distinct kept-channel list once (segments of a
     * head share the list chosen at compression), and the dense tail.
     */
    public long bytes() {
        long b = tailKeys.bytes() + tailValues.bytes();
        Map<int[], Boolean> lists = new IdentityHashMap<>();
        for (Segment s : segments) {
            b += s.keys().bytes() + s.values().bytes();
            if (s.keyChannels() != null) {
                lists.put(s.keyChannels(), true);
            }
            if (s.valueChannels() != null) {
                lists.put(s.valueChannels(), true);
            }
        }
        for (int[] l : lists.keySet()) {
            b += (long) l.length * Integer.BYTES;
        }
        return b;
    }
}
