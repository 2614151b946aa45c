package dev.think4j.eval;

import dev.think4j.kv.CompressedKvCache;
import dev.think4j.kv.KvPolicy;
import dev.think4j.model.Model;
import dev.think4j.model.Transformer;
import dev.think4j.tokenizer.Tokenizer;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * Perplexity and KL divergence to the full cache. Each document is encoded on its own (BOS + text).
 * Without a compression point every token after BOS is scored from one prefill. With
 * {@code compressAfter = F}, the first floor(len * F) tokens (BOS included) are prefilled and
 * compressed, then the rest are fed one by one and scored teacher-forced, next to a full-cache run
 * for the KL divergence.
 */
public final class Perplexity {
    private final Model model;
    private final Tokenizer tokenizer;
    private final int chunk;

    public Perplexity(Model model, Tokenizer tokenizer, int chunk) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.chunk = chunk;
    }

    public int[] encode(String doc) {
        return tokenizer.encode(doc, true, false);
    }

    /** One document's scores: mean NLL and mean KL to the full cache (NaN without) over its scored tokens. */
    public record DocumentScore(int index, long tokens, double meanNll, double meanKl) {
        public double perplexity() {
            return Math.exp(meanNll);
        }
    }

    /** @param progress called with the index of each finished document (may be null) */
    public PerplexityResult run(List<String> docs, KvPolicy policy, Double compressAfter, IntConsumer progress) {
        return run(docs, policy, compressAfter, progress, null);
    }

    /** As above, also handing each scored document's own figures to {@code perDocument} (may be null). */
    public PerplexityResult run(List<String> docs, KvPolicy policy, Double compressAfter, IntConsumer progress,
                                java.util.function.Consumer<DocumentScore> perDocument) {
        int vocab = model.config().vocabSize();
        Transformer tf = model.newTransformer(chunk);
        Transformer tfFull = model.newTransformer(chunk);
        double nll = 0;
        double kl = 0;
        long scored = 0;
        double bytes = 0;
        double bytesDense = 0;
        double bytesEnd = 0;
        double bytesEndDense = 0;
        boolean withKl = !policy.isNone();
        for (int d = 0; d < docs.size(); d++) {
            int[] ids = encode(docs.get(d));
            if (ids.length > model.config().contextLength()) {
                ids = java.util.Arrays.copyOf(ids, model.config().contextLength());
            }
            if (ids.length < 2) {
                continue;
            }
            double nllBefore = nll;
            double klBefore = kl;
            long scoredBefore = scored;
            CompressedKvCache cache = model.newCache(policy);
            if (compressAfter == null) {
                float[] all = new float[ids.length * vocab];
                tf.forward(ids, 0, ids.length, cache, null, all);
                cache.endPrefill();
                for (int t = 0; t + 1 < ids.length; t++) {
                    nll -= logProb(all, t * vocab, vocab, ids[t + 1]);
                    scored++;
                }
                bytes += cache.bytes();
                bytesDense += cache.uncompressedBytes();
            } else {
                int prefix = Math.max(1, (int) Math.floor(ids.length * compressAfter));
                if (prefix >= ids.length) {
                    continue;
                }
                float[] logits = new float[vocab];
                float[] fullLogits = new float[vocab];
                CompressedKvCache full = withKl ? model.newCache(KvPolicy.none()) : null;
                tf.forward(ids, 0, prefix, cache, logits, null);
                cache.endPrefill();
                bytes += cache.bytes();
                bytesDense += cache.uncompressedBytes();
                if (withKl) {
                    tfFull.forward(ids, 0, prefix, full, fullLogits, null);
                }
                for (int t = prefix; t < ids.length; t++) {
                    nll -= logProb(logits, 0, vocab, ids[t]);
                    if (withKl) {
                        kl += klDivergence(fullLogits, logits, vocab);
                    }
                    scored++;
                    if (t + 1 < ids.length) {
                        tf.forward(ids, t, 1, cache, logits, null);
                        if (withKl) {
                            tfFull.forward(ids, t, 1, full, fullLogits, null);
                        }
                    }
                }
                if (full != null) {
                    full.clear();
                }
            }
            bytesEnd += cache.bytes();
            bytesEndDense += cache.uncompressedBytes();
            cache.clear(); // frees quantized pages (outside the heap) now, not when the collector finds them
            if (perDocument != null && scored > scoredBefore) {
                long n = scored - scoredBefore;
                perDocument.accept(new DocumentScore(d, n, (nll - nllBefore) / n,
                        withKl && compressAfter != null ? (kl - klBefore) / n : Double.NaN));
            }
            if (progress != null) {
                progress.accept(d);
            }
        }
        double mean = nll / Math.max(1, scored);
        int n = docs.size();
        return new PerplexityResult(policy.spec(), n, scored, mean, Math.exp(mean),
                withKl && compressAfter != null ? kl / Math.max(1, scored) : (withKl ? 0 : Double.NaN),
                bytes / n, bytesDense / n, bytesEnd / n, bytesEndDense / n);
    }

    static double logProb(float[] logits, int off, int n, int target) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, logits[off + i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp(logits[off + i] - max);
        }
        return logits[off + target] - max - Math.log(sum);
    }

    /** KL(p || q) for logits p (reference) and q, in nats. */
    static double klDivergence(float[] p, float[] q, int n) {
        double pm = Double.NEGATIVE_INFINITY;
        double qm = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            pm = Math.max(pm, p[i]);
            qm = Math.max(qm, q[i]);
        }
        double ps = 0;
        double qs = 0;
        for (int i = 0; i < n; i++) {
            ps += Math.exp(p[i] - pm);
            qs += Math.exp(q[i] - qm);
        }
        double plse = pm + Math.log(ps);
        double qlse = qm + Math.log(qs);
        double kl = 0;
        for (int i = 0; i < n; i++) {
            double lp = p[i] - plse;
            double lq = q[i] - qlse;
            kl += Math.exp(lp) * (lp - lq);
        }
        return Math.max(0, kl);
    }
}
