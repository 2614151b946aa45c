import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.think4j.kv.CompressedKvCache;
import dev.think4j.kv.KvPolicy;
import dev.think4j.model.Model;
import dev.think4j.model.Transformer;
import dev.think4j.tokenizer.Tokenizer;
import java.nio.file.Path;

/**
 * Teacher-forced comparison with llama.cpp for tools/quant_e2e_check.sh: feeds llama.cpp's greedy
 * tokens (from its /completion response) through think4j and prints the largest difference between
 * the two engines' log-probabilities of those tokens, for one-token and chunked (matmul) prefill.
 * Usage: java -cp think4j-cli/target/think4j.jar tools/QuantE2E.java MODEL.gguf REFERENCE.json PROMPT
 */
public class QuantE2E {
    public static void main(String[] a) throws Exception {
        JsonNode probs = new ObjectMapper().readTree(Path.of(a[1]).toFile()).get("completion_probabilities");
        try (Model model = Model.load(Path.of(a[0]))) {
            int[] prompt = Tokenizer.fromGguf(model.gguf()).encode(a[2], true, false);
            int[] out = new int[probs.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = probs.get(i).get("id").asInt();
            }
            for (int chunk : new int[] {1, 16}) {
                Transformer tf = model.newTransformer(chunk);
                CompressedKvCache cache = model.newCache(KvPolicy.none());
                float[] logits = new float[model.config().vocabSize()];
                tf.forward(prompt, 0, prompt.length, cache, logits, null);
                double maxDiff = 0;
                int agree = 0;
                for (int i = 0; i < out.length; i++) {
                    int arg = 0;
                    for (int k = 1; k < logits.length; k++) {
                        arg = logits[k] > logits[arg] ? k : arg;
                    }
                    double sum = 0;
                    for (float l : logits) {
                        sum += Math.exp(l - logits[arg]);
                    }
                    double lp = logits[out[i]] - logits[arg] - Math.log(sum);
                    maxDiff = Math.max(maxDiff, Math.abs(lp - probs.get(i).get("logprob").asDouble()));
                    agree += arg == out[i] ? 1 : 0;
                    tf.forward(out, i, 1, cache, logits, null);
                }
                System.out.printf("%s prefill chunk %2d: %d tokens, greedy agrees on %d, max |logprob diff| %.5f%n",
                        Path.of(a[0]).getFileName(), chunk, out.length, agree, maxDiff);
            }
        }
    }
}
