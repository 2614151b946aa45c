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
    /** Seconds for a Retry-After header, or 0 for none. */
    private final int retryAfterSeconds;

    public ApiException(int status, String type, String message, String param, String code) {
        this(status, type, message, param, code, 0);
    }

    public ApiException(int status, String type, String message, String param, String code, int retryAfterSeconds) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    /** A 500 for a failure on the server's side (never the client's fault). */
    public static ApiException internal(String message) {
        return new ApiException(500, "server_error", message, null, "internal_error");
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

    public int retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
