package dev.think4j.cli;

import dev.think4j.kv.KvPolicy;
import dev.think4j.kv.KvSpec;
import picocli.CommandLine.Option;

/** Options of commands that load a model with one KV cache setting. */
public final class ModelOptions extends EngineOptions {
    @Option(names = "--kv", paramLabel = "SPEC", defaultValue = "full",
            description = "KV cache compression, e.g. think:0.5, snapkv:512+think:0.5+kivi:2 (default: ${DEFAULT-VALUE})")
    String kv;

    KvPolicy policy() {
        return KvSpec.parse(kv);
    }
}
