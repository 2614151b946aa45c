package dev.think4j.cli;

import dev.think4j.kv.KvPolicy;
import dev.think4j.kv.KvPress;
import dev.think4j.kv.ThinkPress;
import java.io.PrintWriter;

/** Warnings and notes on stderr about settings that run but do not do what the user likely expects. */
final class Notes {
    private Notes() {
    }

    /**
     * A note when a ThinK (or keynorm) term will leave the cache uncompressed: it chooses channels
     * from the prompt's tokens older than its window, so a prompt no longer than the window prunes
     * nothing, and with no channels chosen, flush= has nothing to move generated tokens into either.
     *
     * @return whether a note was printed
     */
    static boolean shortPrompt(PrintWriter err, KvPolicy policy, int promptTokens) {
        for (KvPress p : policy.presses()) {
            if (p instanceof ThinkPress && promptTokens <= p.window()) {
                err.println("note: prompt of " + promptTokens + " tokens is not longer than the ThinK window " + p.window()
                        + ": nothing compressed (flush= needs channels chosen from a longer prompt too); give more than "
                        + p.window() + " prompt tokens, e.g. --prompt-file docs/examples/story.txt");
                err.flush();
                return true;
            }
        }
        return false;
    }

    /** A warning when --ctx goes past the context the model was trained on. */
    static void contextBeyondTraining(PrintWriter err, int ctx, int trained, String architecture) {
        if (ctx > trained) {
            err.println("warning: --ctx " + ctx + " is beyond the model's trained context of " + trained + " tokens ("
                    + architecture + ".context_length); output past " + trained + " tokens is likely to degrade");
            err.flush();
        }
    }
}
