package dev.think4j.server;

import java.util.List;

/**
 * Test seams inside the scheduler loop: each method runs on the scheduler thread at the named point
 * and may throw (to inject a fault there) or block briefly (to slow generation down so a test can
 * act mid-sequence). Production code never installs any.
 */
interface SchedulerHooks {
    SchedulerHooks NONE = new SchedulerHooks() {
    };

    /** Top of every loop iteration, outside any per-sequence guard. */
    default void iteration() {
    }

    /** Before sampling a sequence's next token ({@code produced} tokens so far). */
    default void beforeSample(GenerationRequest request, int produced) {
    }

    /** Before one prefill chunk of {@code n} prompt tokens from {@code from}. */
    default void beforePrefillChunk(GenerationRequest request, int from, int n) {
    }

    /** Before one batched decode forward over these sequences. */
    default void beforeDecodeBatch(List<GenerationRequest> batch) {
    }
}
