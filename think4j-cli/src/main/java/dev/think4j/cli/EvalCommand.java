package dev.think4j.cli;

import picocli.CommandLine.Command;

/** Evaluation tasks; each subcommand takes --model, --kv, --json and --out. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Measure quality of KV cache settings (perplexity/KL, retrieval, long-context tasks).",
        subcommands = {EvalPplCommand.class, EvalNiahCommand.class, EvalRecallCommand.class, EvalRulerCommand.class,
            EvalLongBenchCommand.class, EvalFidelityCommand.class, EvalChannelsCommand.class, EvalSweepCommand.class})
public final class EvalCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "missing eval task; see think4j eval --help");
    }
}
