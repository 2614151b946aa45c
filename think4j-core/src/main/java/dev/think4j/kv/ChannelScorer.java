package dev.think4j.kv;

/** Ranks the key channels of one head from what was observed there: higher = more worth keeping. */
@FunctionalInterface
public interface ChannelScorer {
    double[] scores(HeadObservation head, int[] keptTokens);

    /** ThinK: squared window-query norm times squared key norm, per channel. */
    ChannelScorer THINK = ChannelSelection::thinkScores;

    /** The query-agnostic baseline: squared key norm per channel. */
    ChannelScorer KEY_NORM = ChannelSelection::keyNormScores;
}
