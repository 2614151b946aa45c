package dev.think4j.cli;

import dev.think4j.Think4jException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** think4j command line: one subcommand per job. User errors print one line on stderr and exit 2. */
@Command(name = "think4j", mixinStandardHelpOptions = true, version = "think4j 0.1.0",
        description = "Pure-Java LLM inference with a ThinK-compressed KV cache.",
        subcommands = {
            GenerateCommand.class,
            ChatCommand.class,
            EvalCommand.class,
            BenchCommand.class,
            ServeCommand.class,
            ChannelsCommand.class,
            InspectCommand.class,
            SynthCommand.class,
        })
public final class Main implements Runnable {
    public static final int EXIT_USER_ERROR = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command; see think4j --help");
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the CLI and returns the exit code (tests call this directly). */
    public static int execute(String... args) {
        CommandLine cl = commandLine();
        return cl.execute(args);
    }

    /** Messages quote text from files and requests: line breaks there must not split the one error line. */
    static String oneLine(String message) {
        return message == null ? "" : message.replace("\r", "\\r").replace("\n", "\\n").replaceAll("\\p{Cntrl}", "?");
    }

    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            Throwable t = ex;
            while (t != null && !(t instanceof Think4jException) && t.getCause() != null && t.getCause() != t) {
                t = t.getCause();
            }
            PrintWriter err = cmd.getErr();
            if (t instanceof Think4jException) {
                err.println("error: " + oneLine(t.getMessage()));
                err.flush();
                return EXIT_USER_ERROR;
            }
            err.println("internal error: " + ex);
            if (Boolean.getBoolean("think4j.debug")) {
                ex.printStackTrace(err);
            } else {
                err.println("(run with THINK4J_JAVA_OPTS=-Dthink4j.debug=true for a stack trace)");
            }
            err.flush();
            return 1;
        });
        cl.setParameterExceptionHandler((ex, args) -> {
            CommandLine cmd = ex.getCommandLine();
            PrintWriter err = cmd.getErr();
            err.println("error: " + ex.getMessage());
            err.println("(see '" + cmd.getCommandSpec().qualifiedName() + " --help')");
            err.flush();
            return EXIT_USER_ERROR;
        });
        return cl;
    }
}
