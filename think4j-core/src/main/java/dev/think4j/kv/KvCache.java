package dev.think4j.kv;

/**
 * The forward pass's only view of cached keys and values. It appends each token's post-RoPE keys
 * and values, asks for attention outputs, and says when a prefill ends; how tokens are stored
 * (dense, channel-pruned, evicted, quantized) is the implementation's business.
 */
public interface KvCache {
    KvShape shape();

    /** RoPE position for the next token: tokens appended so far (unless a press re-bases positions). */
    int position();

    /** Stores one token's keys and values for a layer: kvHeads * headDim floats each. */
    void append(int layer, float[] k, int kOff, float[] v, int vOff);

    /**
     * Attention of one token's queries (heads * headDim floats) over everything cached for the layer,
     * including the token just appended; writes heads * headDim floats to out.
     */
    void attend(int layer, float[] q, int qOff, float[] out, int outOff);

    /** Called after {@code tokens} tokens went through every layer. */
    void advance(int tokens);

    /** Called after a prompt (or a chat turn) has been prefilled: the compression point. */
    void endPrefill();

    /** Exact bytes held by cached keys and values (with scales, zero points and index lists). */
    long bytes();

    /** Bytes a dense float32 cache would hold for the same {@link #position()} tokens. */
    default long uncompressedBytes() {
        return position() * shape().denseBytesPerToken();
    }

    /** Forgets everything (a new conversation) and frees what the cached tokens held. */
    void clear();
}
