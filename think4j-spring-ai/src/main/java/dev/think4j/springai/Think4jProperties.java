package dev.think4j.springai;

import java.nio.file.Path;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * {@code think4j.*} settings: the GGUF file ({@code think4j.model-path}, required for the
 * auto-configuration to apply), the KV cache spec ({@code think4j.kv}, e.g. {@code think:0.5}),
 * threads, context length and generation defaults.
 */
@ConfigurationProperties(prefix = "think4j")
public class Think4jProperties {
    private Path modelPath;
    private String kv;
    private Integer threads;
    private Integer contextLength;
    private Integer maxTokens;
    private Double temperature;

    /** @return the GGUF model file */
    public Path getModelPath() {
        return modelPath;
    }

    /** @param modelPath the GGUF model file */
    public void setModelPath(Path modelPath) {
        this.modelPath = modelPath;
    }

    /** @return the KV cache spec, as {@code think4j generate --kv} takes it; none means full */
    public String getKv() {
        return kv;
    }

    /** @param kv the KV cache spec */
    public void setKv(String kv) {
        this.kv = kv;
    }

    /** @return kernel threads, or null for the available processors */
    public Integer getThreads() {
        return threads;
    }

    /** @param threads kernel threads */
    public void setThreads(Integer threads) {
        this.threads = threads;
    }

    /** @return the context length in tokens, or null for the model's */
    public Integer getContextLength() {
        return contextLength;
    }

    /** @param contextLength the context length in tokens */
    public void setContextLength(Integer contextLength) {
        this.contextLength = contextLength;
    }

    /** @return the default maximum of generated tokens, or null for 256 */
    public Integer getMaxTokens() {
        return maxTokens;
    }

    /** @param maxTokens the default maximum of generated tokens */
    public void setMaxTokens(Integer maxTokens) {
        this.maxTokens = maxTokens;
    }

    /** @return the default temperature, or null for 0.8 */
    public Double getTemperature() {
        return temperature;
    }

    /** @param temperature the default temperature */
    public void setTemperature(Double temperature) {
        this.temperature = temperature;
    }
}
