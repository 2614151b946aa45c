package dev.think4j.server;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.HttpConnection;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.util.BufferUtil;

/**
 * Notices a client that closed its connection while its request is still being worked on. Jetty
 * reads nothing from an HTTP/1.1 connection while a request is handled, so a client's close sits
 * unread in the socket until the response is written; a non-streaming request would otherwise decode
 * up to max_tokens for nobody. A non-blocking one-byte read tells: end of stream means the client is
 * gone. A byte that does arrive is a pipelined next request; it cannot be put back, so the connection
 * is marked to close after this response and probing stops (pipelining POSTs is rare and discouraged).
 */
final class ClientProbe {
    private final EndPoint endPoint;
    private final HttpServletResponse response;
    private final ByteBuffer one = BufferUtil.allocate(1);
    private boolean stopped;

    private ClientProbe(EndPoint endPoint, HttpServletResponse response) {
        this.endPoint = endPoint;
        this.response = response;
        this.stopped = endPoint == null;
    }

    static ClientProbe of(HttpServletRequest request, HttpServletResponse response) {
        Request base = Request.getBaseRequest(request);
        EndPoint ep = base == null || base.getHttpChannel() == null ? null : base.getHttpChannel().getEndPoint();
        // Only a plain HTTP/1.1 connection carries one request at a time; a multiplexed one is not ours to read.
        if (ep != null && !(ep.getConnection() instanceof HttpConnection)) {
            ep = null;
        }
        return new ClientProbe(ep, response);
    }

    /** True when the client has closed the connection (or it broke). Never blocks. */
    boolean clientGone() {
        if (stopped) {
            return false;
        }
        if (!endPoint.isOpen() || endPoint.isInputShutdown()) {
            return true;
        }
        BufferUtil.clear(one);
        try {
            int n = endPoint.fill(one);
            if (n < 0) {
                return true;
            }
            if (n > 0) {
                stopped = true;
                if (!response.isCommitted()) {
                    response.setHeader("Connection", "close");
                }
            }
            return false;
        } catch (IOException e) {
            return true;
        }
    }
}
