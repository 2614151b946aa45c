package dev.think4j.cli;

import dev.think4j.Think4jException;
import dev.think4j.kv.KvPolicy;
import dev.think4j.kv.KvSpec;
import java.util.Arrays;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Options of commands that load a model with one KV cache setting. */
public final class ModelOptions extends EngineOptions {
    /** The commands that compare several ';'-separated settings in one run. */
    static final String MULTI_SPEC_COMMANDS = "eval niah, eval recall, eval ruler, eval longbench, eval fidelity, eval sweep and bench";

    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    @Option(names = "--kv", paramLabel = "SPEC", defaultValue = "full",
            description = "KV cache compression, e.g. think:0.5, snapkv:512+think:0.5+kivi:2 (default: ${DEFAULT-VALUE})")
    String kv;

    KvPolicy policy() {
        List<String> several = Arrays.stream(kv.split(";")).map(String::strip).filter(s -> !s.isEmpty()).toList();
        if (several.size() > 1) {
            String name = command == null ? "this command" : "'" + command.qualifiedName(" ").replaceFirst("^think4j ", "") + "'";
            throw new Think4jException(name + " takes one --kv spec, got " + several.size() + " (" + String.join(", ", several)
                    + "); run it once per spec, or compare several in one run with " + MULTI_SPEC_COMMANDS);
        }
        return KvSpec.parse(several.isEmpty() ? kv : several.getFirst());
    }
}
