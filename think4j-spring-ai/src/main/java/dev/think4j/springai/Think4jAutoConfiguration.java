package dev.think4j.springai;

import dev.think4j.api.GenerateOptions;
import dev.think4j.api.Think4j;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

/**
 * Registers a {@link Think4jChatModel} (as Spring AI's {@link ChatModel}) when {@code think4j.model-path}
 * is set and no other {@link ChatModel} bean exists. The model is loaded at startup and its native
 * memory freed when the context closes.
 */
@AutoConfiguration
@ConditionalOnClass(ChatModel.class)
@ConditionalOnProperty(prefix = "think4j", name = "model-path")
@EnableConfigurationProperties(Think4jProperties.class)
public class Think4jAutoConfiguration {
    /**
     * @param properties the {@code think4j.*} settings
     * @return the chat model
     */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean(ChatModel.class)
    public Think4jChatModel think4jChatModel(Think4jProperties properties) {
        Think4j.Builder b = Think4j.builder(properties.getModelPath());
        if (properties.getKv() != null && !properties.getKv().isBlank()) {
            b.kv(properties.getKv());
        }
        if (properties.getThreads() != null) {
            b.threads(properties.getThreads());
        }
        if (properties.getContextLength() != null) {
            b.contextLength(properties.getContextLength());
        }
        GenerateOptions defaults = GenerateOptions.defaults();
        if (properties.getMaxTokens() != null) {
            defaults = defaults.withMaxTokens(properties.getMaxTokens());
        }
        if (properties.getTemperature() != null) {
            defaults = defaults.withTemperature(properties.getTemperature());
        }
        return new Think4jChatModel(b.load(), true, defaults);
    }
}
