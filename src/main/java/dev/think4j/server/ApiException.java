package dev.think4j.server;

/**
 * A request the server refuses, carrying what the OpenAI error envelope needs. Thrown anywhere
 * before a sequence is queued; the HTTP layer turns it into
 * {@code {"error":{"message","type","param","code"}}} with {@link #status()}.
 */
public final class ApiException extends RuntimeException {
    private final int status;
    private final String type;
    private final String param;
    private final String code;

    public ApiException(int status, String type, String message, String param, String code) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    public static ApiException invalid(String message, String param, String code) {
        return new ApiException(400, "invalid_request_error", message, param, code);
    }

    public int status() {
        return status;
    }

    public String type() {
        return type;
    }

    public String param() {
        return param;
    }

    public String code() {
        return code;
    }
}
