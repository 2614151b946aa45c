package dev.think4j.langchain4j;

import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.Content;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.TextContent;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.exception.UnsupportedFeatureException;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.request.ResponseFormatType;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.model.output.TokenUsage;
import dev.think4j.api.GenerateOptions;
import dev.think4j.api.Generation;
import java.util.ArrayList;
import java.util.List;

/** Translation between LangChain4j's requests and responses and think4j's API, shared by both chat models. */
final class Think4jLangChain {
    private Think4jLangChain() {
    }

    static List<dev.think4j.api.ChatMessage> messages(List<ChatMessage> messages) {
        if (messages == null || messages.isEmpty()) {
            throw new IllegalArgumentException("a chat request needs at least one message");
        }
        List<dev.think4j.api.ChatMessage> out = new ArrayList<>(messages.size());
        for (ChatMessage m : messages) {
            out.add(switch (m) {
                case SystemMessage s -> dev.think4j.api.ChatMessage.system(s.text());
                case UserMessage u -> dev.think4j.api.ChatMessage.user(userText(u));
                case AiMessage a -> {
                    if (a.hasToolExecutionRequests()) {
                        throw new UnsupportedFeatureException("think4j does not support tool calls");
                    }
                    yield dev.think4j.api.ChatMessage.assistant(a.text() == null ? "" : a.text());
                }
                default -> throw new UnsupportedFeatureException("think4j does not support " + m.type() + " messages");
            });
        }
        return out;
    }

    private static String userText(UserMessage u) {
        if (u.hasSingleText()) {
            return u.singleText();
        }
        StringBuilder text = new StringBuilder();
        for (Content c : u.contents()) {
            if (!(c instanceof TextContent t)) {
                throw new UnsupportedFeatureException("think4j models read text only, not " + c.type() + " content");
            }
            text.append(t.text());
        }
        return text.toString();
    }

    /** The request's parameters (already merged with the model's defaults by LangChain4j) as generation options. */
    static GenerateOptions options(ChatRequest request, GenerateOptions base) {
        ChatRequestParameters p = request.parameters();
        if (p.toolSpecifications() != null && !p.toolSpecifications().isEmpty()) {
            throw new UnsupportedFeatureException("think4j does not support tools");
        }
        if (p.responseFormat() != null && p.responseFormat().type() == ResponseFormatType.JSON) {
            throw new UnsupportedFeatureException("think4j does not support a JSON response format");
        }
        if (p.frequencyPenalty() != null || p.presencePenalty() != null) {
            throw new UnsupportedFeatureException("think4j does not support frequency or presence penalties");
        }
        GenerateOptions o = base;
        if (p.maxOutputTokens() != null) {
            o = o.withMaxTokens(p.maxOutputTokens());
        }
        if (p.temperature() != null) {
            o = o.withTemperature(p.temperature());
        }
        if (p.topP() != null) {
            o = o.withTopP(p.topP());
        }
        if (p.topK() != null) {
            o = o.withTopK(p.topK());
        }
        if (p.stopSequences() != null && !p.stopSequences().isEmpty()) {
            o = o.withStopStrings(p.stopSequences().toArray(String[]::new));
        }
        return o;
    }

    static ChatResponse response(Generation g, String modelName) {
        return ChatResponse.builder()
                .aiMessage(AiMessage.from(g.text()))
                .modelName(modelName)
                .tokenUsage(new TokenUsage(g.promptTokens(), g.generatedTokens()))
                .finishReason(finishReason(g.finishReason()))
                .build();
    }

    static FinishReason finishReason(dev.think4j.api.FinishReason r) {
        return switch (r) {
            case END_OF_TEXT, STOP_STRING -> FinishReason.STOP;
            case MAX_TOKENS, CONTEXT_FULL -> FinishReason.LENGTH;
            case CANCELLED -> FinishReason.OTHER;
        };
    }
}
