package dev.think4j.api;

import java.util.List;

/**
 * The log-probability of one generated token and the most likely alternatives at its position, from
 * the log-softmax of the model's raw logits (temperature 1, before the repetition penalty, top-k,
 * top-p and min-p): what OpenAI's {@code logprobs} and llama.cpp's {@code n_probs} report. Asked for
 * with {@link GenerateOptions#withLogprobs(int)}.
 *
 * @param id      the generated token's id
 * @param token   its text (bytes of an unfinished character as {@code \xNN}, control tokens by name)
 * @param logprob its natural-log probability
 * @param top     the most likely tokens, most likely first (equal logits in ascending id order)
 */
public record TokenLogprob(int id, String token, double logprob, List<Alternative> top) {
    /** Copies {@code top}. */
    public TokenLogprob {
        top = List.copyOf(top);
    }

    /**
     * One of the most likely tokens at a position.
     *
     * @param id      its id
     * @param token   its text
     * @param logprob its natural-log probability
     */
    public record Alternative(int id, String token, double logprob) {
    }
}
