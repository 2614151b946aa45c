package dev.think4j.kv;

import dev.think4j.tensor.VectorMath;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The cache of one (layer, KV head): compressed segments (oldest first) followed by a dense,
 * full-width tail that new tokens append to. It carries out plans ({@link HeadPlan}) at compression
 * points and the steps its {@link DecodeRule}s ask for between decoded tokens; the channels and
 * format chosen at the last compression point are remembered so flushed tokens are stored the same way.
 * A head of a sliding-window layer ({@code window > 0}) frees its oldest tokens whenever an append
 * takes it past the window.
 */
final class HeadCache implements HeadStatus {
    private final int layer;
    private final int kvHead;
    private final int headDim;
    /** Tokens kept at most (a sliding-window layer), 0 for all of them. */
    private final int window;
    private final List<Segment<?, ?>> segments = new ArrayList<>();
    private FloatKeyBlocks tailKeys;
    private FloatRows tailValues;

    private int[] keyChannels;
    private int[] valueChannels;
    private StoreFormat<?, ?> format = StoreFormat.FLOAT;
    private int protectedTail;
    private List<DecodeRule> rules = List.of();
    private boolean observesAttention;

    HeadCache(int layer, int kvHead, int headDim) {
        this(layer, kvHead, headDim, 0);
    }

    HeadCache(int layer, int kvHead, int headDim, int window) {
        this.layer = layer;
        this.kvHead = kvHead;
        this.headDim = headDim;
        this.window = window;
        this.tailKeys = new FloatKeyBlocks(headDim, 16);
        this.tailValues = new FloatRows(headDim, 16);
    }

    int layer() {
        return layer;
    }

    int kvHead() {
        return kvHead;
    }

    void append(float[] k, int kOff, float[] v, int vOff) {
        tailKeys.append(k, kOff);
        tailValues.append(v, vOff);
        if (window > 0) {
            int over = length() - window;
            if (over > 0) {
                dropOldest(over);
            }
        }
    }

    @Override
    public int length() {
        int n = tailKeys.tokens();
        for (Segment<?, ?> s : segments) {
            n += s.tokens();
        }
        return n;
    }

    List<Segment<?, ?>> segments() {
        return Collections.unmodifiableList(segments);
    }

    FloatKeyBlocks tailKeys() {
        return tailKeys;
    }

    FloatRows tailValues() {
        return tailValues;
    }

    @Override
    public int tailLength() {
        return tailKeys.tokens();
    }

    int[] keyChannels() {
        return keyChannels;
    }

    int[] valueChannels() {
        return valueChannels;
    }

    @Override
    public int protectedTail() {
        return protectedTail;
    }

    @Override
    public boolean prunesChannels() {
        return keyChannels != null || valueChannels != null;
    }

    boolean observesAttention() {
        return observesAttention;
    }

    /** Hands one query head's decode attention (cache order) to the rules that watch it. */
    void observe(float[] probs, int off, int n) {
        for (DecodeRule r : rules) {
            if (r.observesAttention()) {
                r.observe(probs, off, n);
            }
        }
    }

    /** After a decoded token: carries out each rule's steps, rule by rule, until it asks for nothing. */
    void afterToken(int generated) {
        for (DecodeRule r : rules) {
            for (DecodeRule.Step step = r.next(this, generated); step != null; step = r.next(this, generated)) {
                switch (step) {
                    case DecodeRule.Flush f -> flush(f.tokens());
                    case DecodeRule.Evict e -> evict(e.indices());
                }
            }
        }
    }

    /**
     * Attention of one query head: softmax(q . k / sqrt(D)) over segments then tail, values summed
     * into out[outOff .. outOff + D). logits must hold {@link #length()} floats; scratch >= D floats.
     */
    void attend(float[] q, int qOff, float[] out, int outOff, float scale, float[] logits, float[] scratch) {
        attend(q, qOff, 1, out, outOff, scale, logits, scratch);
    }

    /**
     * Attention of the {@code nq} query heads that share this KV head (heads side by side in q and
     * out, D floats each): every key and value is read, and decoded, once for all of them. logits
     * must hold nq * {@link #length()} floats (head i's probabilities end up at i * length());
     * scratch at least nq * D.
     */
    void attend(float[] q, int qOff, int nq, float[] out, int outOff, float scale, float[] logits, float[] scratch) {
        int n = scores(q, qOff, nq, logits, scratch);
        for (int i = 0; i < nq; i++) {
            VectorMath.softmax(logits, i * n, n, scale);
        }
        java.util.Arrays.fill(out, outOff, outOff + nq * headDim, 0f);
        int off = 0;
        for (Segment<?, ?> s : segments) {
            s.accumulate(logits, off, n, nq, out, outOff, headDim, scratch);
            off += s.tokens();
        }
        tailValues.accumulate(logits, off, n, nq, out, outOff, headDim);
    }

    /** Unscaled logits of q against every cached token, in cache order; returns the token count. */
    int scores(float[] q, int qOff, float[] logits, float[] scratch) {
        return scores(q, qOff, 1, logits, scratch);
    }

    /** Unscaled logits of nq adjacent query heads; head i's start at i * (returned token count). */
    private int scores(float[] q, int qOff, int nq, float[] logits, float[] scratch) {
        int n = length();
        int off = 0;
        for (Segment<?, ?> s : segments) {
            s.scores(q, qOff, headDim, nq, logits, off, n, scratch);
            off += s.tokens();
        }
        tailKeys.scores(q, qOff, headDim, nq, logits, off, n);
        return n;
    }

    /** Rebuilds the tail according to a plan made from it ({@code seen} is what the plan was made from). */
    void apply(HeadObservation seen, HeadPlan plan) {
        int[] kept = plan.keptTokens();
        int tail = plan.tailTokens();
        int body = kept.length - tail;
        int encoded = plan.encodedTokens();
        addBody(seen, plan, 0, encoded, plan.format());
        addBody(seen, plan, encoded, body, StoreFormat.FLOAT);
        FloatKeyBlocks newKeys = new FloatKeyBlocks(headDim, tail + 16);
        FloatRows newValues = new FloatRows(headDim, tail + 16);
        for (int i = body; i < kept.length; i++) {
            newKeys.append(seen.keys()[kept[i]], 0);
            newValues.append(seen.values()[kept[i]], 0);
        }
        tailKeys = newKeys;
        tailValues = newValues;
        if (plan.fullWidthTail().isPresent()) {
            keyChannels = plan.keyChannels();
            valueChannels = plan.valueChannels();
            format = plan.format();
            protectedTail = plan.tailTokens();
        }
        rules = plan.rules();
        observesAttention = rules.stream().anyMatch(DecodeRule::observesAttention);
    }

    /**
     * Drops the tokens at the given cache-order indices (increasing; segments first, then the tail).
     * Specs that evict during decode are only accepted with formats that drop tokens (see KvSpec).
     */
    void evict(int[] indices) {
        if (indices.length == 0) {
            return;
        }
        int base = 0;
        int i = 0;
        List<Segment<?, ?>> next = new ArrayList<>();
        for (Segment<?, ?> s : segments) {
            int n = s.tokens();
            int from = i;
            while (i < indices.length && indices[i] < base + n) {
                i++;
            }
            if (i > from) {
                s.retain(keepList(n, indices, from, i, base));
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

    private void addBody(HeadObservation seen, HeadPlan plan, int from, int to, StoreFormat<?, ?> enc) {
        if (to <= from) {
            return;
        }
        int[] kept = plan.keptTokens();
        float[][] bodyKeys = new float[to - from][];
        float[][] bodyValues = new float[to - from][];
        for (int i = from; i < to; i++) {
            bodyKeys[i - from] = gather(seen.keys()[kept[i]], plan.keyChannels());
            bodyValues[i - from] = gather(seen.values()[kept[i]], plan.valueChannels());
        }
        addSegment(bodyKeys, bodyValues, plan.keyChannels(), plan.valueChannels(), enc);
    }

    /**
     * Moves the oldest {@code count} tail tokens into compressed storage with the current plan
     * (kept channels and format), so memory keeps shrinking during long generations.
     */
    void flush(int count) {
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
        Segment<?, ?> last = segments.isEmpty() ? null : segments.getLast();
        boolean grown = last != null && last.format() == format && last.keyChannels() == keyChannels
                && last.valueChannels() == valueChannels && last.append(k, v);
        if (!grown) {
            addSegment(k, v, keyChannels, valueChannels, format);
        }
        tailKeys.removeFirst(count);
        tailValues.removeFirst(count);
    }

    /**
     * Frees the {@code n} oldest tokens (a sliding-window layer's expired ones): shifted out of the
     * dense tail when nothing is compressed, else removed through {@link #evict} (segments first).
     */
    private void dropOldest(int n) {
        if (segments.isEmpty()) {
            tailKeys.removeFirst(n);
            tailValues.removeFirst(n);
            return;
        }
        int[] oldest = new int[n];
        for (int i = 0; i < n; i++) {
            oldest[i] = i;
        }
        evict(oldest);
    }

    /** Keeps only the given tail rows (increasing indices): decode-time eviction. */
    private void retainTail(int[] rows) {
        tailKeys.retain(rows);
        tailValues.retain(rows);
    }

    /** Replaces the segment list, releasing the stores of dropped segments. */
    void replaceSegments(List<Segment<?, ?>> next) {
        setSegments(next);
    }

    /** Frees the memory of every segment's stores; the head is empty afterwards (a cache being cleared). */
    void release() {
        setSegments(List.of());
    }

    /** Installs {@code next}, releasing the stores of dropped segments that {@code next} does not reuse. */
    private void setSegments(List<Segment<?, ?>> next) {
        Set<Object> kept = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Segment<?, ?> s : next) {
            kept.add(s.keys());
            kept.add(s.values());
        }
        for (Segment<?, ?> s : segments) {
            if (!kept.contains(s.keys())) {
                s.keys().release();
            }
            if (!kept.contains(s.values())) {
                s.values().release();
            }
        }
        List<Segment<?, ?>> copy = List.copyOf(next);
        segments.clear();
        segments.addAll(copy);
    }

    private void addSegment(float[][] k, float[][] v, int[] kc, int[] vc, StoreFormat<?, ?> enc) {
        int kw = kc == null ? headDim : kc.length;
        int vw = vc == null ? headDim : vc.length;
        segments.add(Segment.encode(enc, k, kc, kw, v, vc, vw));
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
     * Writes this head as stored: the kept-channel lists once each (segments and the head share
     * them, and flushing grows the last segment only when its lists are the head's own), the
     * head's current channels, format and protected tail, its decode rules with their state, every
     * segment's stores, and the dense tail.
     */
    void writeState(StateWriter out, List<StoreFormat<?, ?>> formats) {
        List<int[]> lists = new ArrayList<>();
        listIndex(lists, keyChannels);
        listIndex(lists, valueChannels);
        for (Segment<?, ?> s : segments) {
            listIndex(lists, s.keyChannels());
            listIndex(lists, s.valueChannels());
        }
        out.i32(lists.size());
        for (int[] l : lists) {
            out.intArray(l);
        }
        out.i32(listIndex(lists, keyChannels)).i32(listIndex(lists, valueChannels));
        out.u8(KvStateCodec.formatIndex(formats, format)).i32(protectedTail);
        out.i32(rules.size());
        for (DecodeRule r : rules) {
            KvStateCodec.writeRule(out, r);
        }
        out.i32(segments.size());
        for (Segment<?, ?> s : segments) {
            out.u8(KvStateCodec.formatIndex(formats, s.format()));
            out.i32(listIndex(lists, s.keyChannels())).i32(listIndex(lists, s.valueChannels()));
            KvStateCodec.writeKeys(out, s.keys());
            KvStateCodec.writeValues(out, s.values());
        }
        tailKeys.write(out);
        tailValues.write(out);
    }

    /** Index of {@code l} (by identity) in {@code lists}, added if new; -1 for null. */
    private static int listIndex(List<int[]> lists, int[] l) {
        if (l == null) {
            return -1;
        }
        for (int i = 0; i < lists.size(); i++) {
            if (lists.get(i) == l) {
                return i;
            }
        }
        lists.add(l);
        return lists.size() - 1;
    }

    /** Replaces this (empty) head's state with what {@link #writeState} wrote. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    void readState(StateReader in, List<StoreFormat<?, ?>> formats) {
        int listCount = in.count("channel lists", 0, 2 + 2 * in.remaining());
        List<int[]> lists = new ArrayList<>();
        for (int i = 0; i < listCount; i++) {
            int[] l = in.intArray("channel list", headDim);
            if (l == null) {
                throw in.corrupt("empty channel list reference");
            }
            for (int c : l) {
                if (c < 0 || c >= headDim) {
                    throw in.corrupt("channel " + c + " outside a head of " + headDim);
                }
            }
            lists.add(l);
        }
        int[] kc = list(in, lists);
        int[] vc = list(in, lists);
        StoreFormat<?, ?> f = KvStateCodec.readFormat(in, formats);
        int prot = in.count("protected tail", 0, Integer.MAX_VALUE);
        int ruleCount = in.count("decode rules", 0, 64);
        List<DecodeRule> rs = new ArrayList<>();
        for (int i = 0; i < ruleCount; i++) {
            rs.add(KvStateCodec.readRule(in));
        }
        int segmentCount = in.count("segments", 0, in.remaining());
        List<Segment<?, ?>> segs = new ArrayList<>();
        try {
            for (int i = 0; i < segmentCount; i++) {
                StoreFormat sf = KvStateCodec.readFormat(in, formats);
                int[] skc = list(in, lists);
                int[] svc = list(in, lists);
                KeyStore k = KvStateCodec.readKeys(in, headDim);
                ValueStore v = KvStateCodec.readValues(in, headDim);
                segs.add(new Segment(k, skc, v, svc, sf));
                checkSegment(in, segs.getLast());
            }
            FloatKeyBlocks tk = FloatKeyBlocks.read(in, headDim);
            FloatRows tv = FloatRows.read(in, headDim);
            if (tk.width() != headDim || tv.width() != headDim || tk.tokens() != tv.tokens()) {
                throw in.corrupt("dense tail of " + tk.tokens() + "x" + tk.width() + " keys and " + tv.tokens() + "x"
                        + tv.width() + " values in a head of " + headDim);
            }
            setSegments(segs);
            tailKeys = tk;
            tailValues = tv;
        } catch (RuntimeException e) {
            for (Segment<?, ?> s : segs) {
                s.release();
            }
            if (e instanceof IllegalArgumentException) {
                throw in.corrupt(e.getMessage());
            }
            throw e;
        }
        keyChannels = kc;
        valueChannels = vc;
        format = f;
        protectedTail = prot;
        rules = List.copyOf(rs);
        observesAttention = rules.stream().anyMatch(DecodeRule::observesAttention);
    }

    private static int[] list(StateReader in, List<int[]> lists) {
        int i = in.count("channel list reference", -1, lists.size() - 1);
        return i < 0 ? null : lists.get(i);
    }

    /** A segment's stores must be as wide as its channel lists and of the kinds its format makes. */
    private void checkSegment(StateReader in, Segment<?, ?> s) {
        int kw = s.keyChannels() == null ? headDim : s.keyChannels().length;
        int vw = s.valueChannels() == null ? headDim : s.valueChannels().length;
        if (s.keys().width() != kw || s.values().width() != vw) {
            throw in.corrupt("a segment's stores are " + s.keys().width() + "/" + s.values().width() + " wide for "
                    + kw + "/" + vw + " channels");
        }
        KeyStore sampleKeys = s.format().encodeKeys(new float[0][], kw);
        ValueStore sampleValues = s.format().encodeValues(new float[0][], vw);
        boolean match = sampleKeys.getClass() == s.keys().getClass() && sampleValues.getClass() == s.values().getClass();
        sampleKeys.release();
        sampleValues.release();
        if (!match) {
            throw in.corrupt("a segment in " + s.format().description() + " holds " + s.keys().getClass().getSimpleName()
                    + " and " + s.values().getClass().getSimpleName());
        }
    }

    /**
     * Exact bytes held: every segment's stores, each distinct kept-channel list once (segments of a
     * head share the list chosen at compression), and the dense tail.
     */
    long bytes() {
        long b = tailKeys.bytes() + tailValues.bytes();
        Map<int[], Boolean> lists = new IdentityHashMap<>();
        for (Segment<?, ?> s : segments) {
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
