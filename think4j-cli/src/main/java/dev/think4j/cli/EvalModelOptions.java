package dev.think4j.cli;

import dev.think4j.Think4jException;
import dev.think4j.kv.KvPolicy;
import dev.think4j.kv.KvSpec;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** Model options of the eval tasks: like {@link ModelOptions}, but --kv may name several settings. */
public final class EvalModelOptions extends EngineOptions {
    @Option(names = "--kv", paramLabel = "SPEC",
            description = "KV cache setting(s); repeat the option or separate specs by ';' or spaces (default: full)")
    List<String> kv = new ArrayList<>();

    /** The distinct spec strings given, in order ("full" when none). */
    List<String> specs() {
        List<String> out = new ArrayList<>();
        for (String k : kv) {
            for (String s : k.split("[;\\s]+")) {
                if (!s.isBlank() && !out.contains(s.trim())) {
                    out.add(s.trim());
                }
            }
        }
        if (out.isEmpty()) {
            out.add("full");
        }
        return out;
    }

    /** Parsed settings; with {@code withBaseline} the full cache comes first even if not asked for. */
    List<KvPolicy> policies(boolean withBaseline) {
        List<KvPolicy> out = new ArrayList<>();
        if (withBaseline) {
            out.add(KvPolicy.none());
        }
        for (String s : specs()) {
            KvPolicy p = KvSpec.parse(s);
            if (out.stream().noneMatch(o -> o.spec().equals(p.spec()))) {
                out.add(p);
            }
        }
        return out;
    }

    /** The single setting of tasks that compare one compressed cache against the full one. */
    KvPolicy single() {
        List<String> s = specs();
        if (s.size() != 1) {
            throw new Think4jException("this task takes one --kv setting, got " + s.size() + ": " + s);
        }
        return KvSpec.parse(s.getFirst());
    }
}
