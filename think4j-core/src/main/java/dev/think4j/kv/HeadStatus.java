package dev.think4j.kv;

/** A read-only view of one head's storage, for {@link DecodeRule}s. */
public interface HeadStatus {
    /** Tokens held (compressed and dense). */
    int length();

    /** Tokens in the dense, full-width tail. */
    int tailLength();

    /** Recent tokens the last compression kept full width (0 before any compression). */
    int protectedTail();

    /** True when the last compression narrowed key or value channels. */
    boolean prunesChannels();
}
