package dev.think4j.server;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ArrayBlockingQueue;

/**
 * A Redis or Valkey store spoken to in RESP2 over plain sockets: the eight commands it needs (AUTH,
 * SELECT, PING, GET, MGET, SET PX, EXISTS, DEL) do not justify a client library and its transitive
 * dependencies in the server jar. Connections are pooled and opened on demand; a broken connection is
 * dropped, and after a failed connect every call fails at once for {@link #RETRY_AFTER} so that a
 * store that is down costs requests nothing but a counter.
 */
public final class RedisKvStore implements KvStore {
    /** How long a failed connect keeps calls from trying again. */
    static final Duration RETRY_AFTER = Duration.ofSeconds(1);
    /** Redis refuses bulk strings above its proto-max-bulk-len, 512 MiB by default. */
    public static final long MAX_VALUE_BYTES = 512L << 20;
    private static final int POOL = 8;

    /** Where the store is, parsed from {@code redis://[user[:password]@]host[:port][/db]}. */
    public record Address(String scheme, String host, int port, int db, String user, String password) {
        /** The address without credentials. */
        @Override
        public String toString() {
            String h = host.contains(":") ? "[" + host + "]" : host;
            return scheme + "://" + h + ":" + port + "/" + db;
        }
    }

    private final Address address;
    private final int connectTimeoutMillis;
    private final int readTimeoutMillis;
    private final ArrayBlockingQueue<Connection> idle = new ArrayBlockingQueue<>(POOL);
    private volatile long downUntil;
    private volatile String downBecause;
    private volatile boolean closed;

    private RedisKvStore(Address address, Duration connectTimeout, Duration readTimeout) {
        this.address = address;
        this.connectTimeoutMillis = (int) Math.max(1, connectTimeout.toMillis());
        this.readTimeoutMillis = (int) Math.max(1, readTimeout.toMillis());
    }

    /**
     * Connects and pings once, so a wrong address fails here rather than on the first request.
     *
     * @throws KvStoreException when the store cannot be reached, refuses the credentials or the db
     */
    public static RedisKvStore connect(Address address, Duration connectTimeout, Duration readTimeout) {
        RedisKvStore store = new RedisKvStore(address, connectTimeout, readTimeout);
        Connection c = store.open();
        try {
            Object pong = c.call("PING");
            if (pong instanceof ServerError e) {
                c.close();
                throw new KvStoreException(address + " refused PING: " + e.text()
                        + (e.text().startsWith("NOAUTH") ? " (give the password as redis://:PASSWORD@host:port)" : ""));
            }
            if (!"PONG".equals(pong)) {
                c.close();
                throw new KvStoreException(address + " answered PING with " + pong + ", not PONG: is it Redis or Valkey?");
            }
        } catch (IOException e) {
            c.close();
            throw new KvStoreException(address + ": " + message(e), e);
        }
        store.release(c);
        return store;
    }

    /** Parses {@code redis://} or {@code valkey://} URIs; anything else is an IllegalArgumentException naming the form. */
    public static Address parse(String uri) {
        String form = "expected redis://host:port[/db] or valkey://host:port[/db], with optional user:password@ before the host";
        URI u;
        try {
            u = new URI(uri.trim());
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("'" + uri + "' is not a URI; " + form);
        }
        String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
        if (scheme.equals("rediss") || scheme.equals("valkeys")) {
            throw new IllegalArgumentException("'" + scheme + "://' (TLS) is not supported; use a TLS tunnel such as stunnel and "
                    + "redis://, or keep the store on a private network");
        }
        if (!scheme.equals("redis") && !scheme.equals("valkey")) {
            throw new IllegalArgumentException("'" + uri + "': unknown scheme; " + form);
        }
        String host = u.getHost();
        if (host == null || host.isEmpty()) {
            throw new IllegalArgumentException("'" + uri + "' has no host; " + form);
        }
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port = u.getPort() < 0 ? 6379 : u.getPort();
        int db = 0;
        String path = u.getPath() == null ? "" : u.getPath();
        if (!path.isEmpty() && !path.equals("/")) {
            try {
                db = Integer.parseInt(path.substring(1));
            } catch (NumberFormatException e) {
                db = -1;
            }
            if (db < 0) {
                throw new IllegalArgumentException("'" + uri + "': the path must be a database number such as /0; " + form);
            }
        }
        if (u.getQuery() != null || u.getFragment() != null) {
            throw new IllegalArgumentException("'" + uri + "' takes no ?query or #fragment; " + form);
        }
        String user = null;
        String password = null;
        String info = u.getRawUserInfo();
        if (info != null) {
            int colon = info.indexOf(':');
            String rawUser = colon < 0 ? info : info.substring(0, colon);
            user = rawUser.isEmpty() ? null : URLDecoder.decode(rawUser, StandardCharsets.UTF_8);
            if (colon >= 0) {
                password = URLDecoder.decode(info.substring(colon + 1), StandardCharsets.UTF_8);
            } else {
                // redis://secret@host is how most clients spell a password without a user
                password = user;
                user = null;
            }
        }
        return new Address(scheme, host, port, db, user, password);
    }

    @Override
    public byte[] get(String key) {
        Object r = call("GET", key);
        if (r == null || r instanceof byte[]) {
            return (byte[]) r;
        }
        throw new KvStoreException(address + " answered GET with " + r);
    }

    @Override
    public List<byte[]> getAll(List<String> keys) {
        if (keys.isEmpty()) {
            return List.of();
        }
        byte[][] args = new byte[keys.size() + 1][];
        args[0] = bytes("MGET");
        for (int i = 0; i < keys.size(); i++) {
            args[i + 1] = bytes(keys.get(i));
        }
        Object r = call(args);
        if (r instanceof List<?> items && items.size() == keys.size()) {
            List<byte[]> values = new ArrayList<>(items.size());
            for (Object o : items) {
                if (o != null && !(o instanceof byte[])) {
                    throw new KvStoreException(address + " answered MGET with " + o);
                }
                values.add((byte[]) o);
            }
            return values;
        }
        throw new KvStoreException(address + " answered MGET of " + keys.size() + " keys with " + r);
    }

    @Override
    public void put(String key, byte[] value, Duration ttl) {
        if (value.length > MAX_VALUE_BYTES) {
            throw new KvStoreException("a value of " + value.length + " bytes exceeds Redis's 512 MiB limit");
        }
        long millis = Math.max(1, ttl.toMillis());
        Object r = call(bytes("SET"), bytes(key), value, bytes("PX"), bytes(Long.toString(millis)));
        if (!"OK".equals(r)) {
            throw new KvStoreException(address + " answered SET with " + r);
        }
    }

    @Override
    public boolean contains(String key) {
        Object r = call("EXISTS", key);
        if (r instanceof Long n) {
            return n > 0;
        }
        throw new KvStoreException(address + " answered EXISTS with " + r);
    }

    @Override
    public void delete(String key) {
        call("DEL", key);
    }

    @Override
    public String describe() {
        return address.toString();
    }

    public Address address() {
        return address;
    }

    @Override
    public void close() {
        closed = true;
        Connection c;
        while ((c = idle.poll()) != null) {
            c.close();
        }
    }

    private Object call(String... args) {
        byte[][] raw = new byte[args.length][];
        for (int i = 0; i < args.length; i++) {
            raw[i] = bytes(args[i]);
        }
        return call(raw);
    }

    /** One command on a pooled connection; an I/O failure drops the connection and becomes a KvStoreException. */
    private Object call(byte[]... args) {
        if (closed) {
            throw new KvStoreException(address + " store is closed");
        }
        Connection c = idle.poll();
        if (c == null) {
            c = open();
        }
        try {
            Object r = c.call(args);
            release(c);
            if (r instanceof ServerError e) {
                throw new KvStoreException(address + " answered " + new String(args[0], StandardCharsets.UTF_8) + " with " + e.text());
            }
            return r;
        } catch (IOException e) {
            c.close();
            throw new KvStoreException(address + ": " + message(e), e);
        }
    }

    private void release(Connection c) {
        if (closed || !idle.offer(c)) {
            c.close();
        }
    }

    /** A new authenticated connection on the right db; fails fast while the store is known to be down. */
    private Connection open() {
        long now = System.nanoTime();
        String because = downBecause;
        if (because != null && now - downUntil < 0) {
            throw new KvStoreException(address + " is unreachable (" + because + "); next try within " + RETRY_AFTER.toMillis() + " ms");
        }
        Socket s = new Socket();
        try {
            s.connect(new InetSocketAddress(address.host(), address.port()), connectTimeoutMillis);
            s.setSoTimeout(readTimeoutMillis);
            s.setTcpNoDelay(true);
            Connection c = new Connection(s);
            if (address.password() != null) {
                Object r = address.user() == null ? c.call("AUTH", address.password())
                        : c.call("AUTH", address.user(), address.password());
                if (r instanceof ServerError e) {
                    c.close();
                    throw new KvStoreException(address + " refused the credentials: " + e.text());
                }
            }
            if (address.db() != 0) {
                Object r = c.call("SELECT", Integer.toString(address.db()));
                if (r instanceof ServerError e) {
                    c.close();
                    throw new KvStoreException(address + " refused database " + address.db() + ": " + e.text());
                }
            }
            downBecause = null;
            return c;
        } catch (IOException | IllegalArgumentException e) {
            try {
                s.close();
            } catch (IOException ignored) {
                // already failing
            }
            downBecause = message(e);
            downUntil = System.nanoTime() + RETRY_AFTER.toNanos();
            throw new KvStoreException(address + " is unreachable: " + message(e), e);
        }
    }

    private static String message(Throwable e) {
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** An error reply ("-ERR ..."): the connection stays usable. */
    record ServerError(String text) {
    }

    /** One socket speaking RESP2. Not thread-safe: the pool hands it to one caller at a time. */
    private static final class Connection {
        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;

        Connection(Socket socket) throws IOException {
            this.socket = socket;
            this.in = new BufferedInputStream(socket.getInputStream(), 1 << 16);
            this.out = new BufferedOutputStream(socket.getOutputStream(), 1 << 16);
        }

        Object call(String... args) throws IOException {
            byte[][] raw = new byte[args.length][];
            for (int i = 0; i < args.length; i++) {
                raw[i] = bytes(args[i]);
            }
            return call(raw);
        }

        Object call(byte[]... args) throws IOException {
            header('*', args.length);
            for (byte[] a : args) {
                header('$', a.length);
                out.write(a);
                out.write('\r');
                out.write('\n');
            }
            out.flush();
            return read();
        }

        private void header(char type, long n) throws IOException {
            out.write(type);
            out.write(bytes(Long.toString(n)));
            out.write('\r');
            out.write('\n');
        }

        private Object read() throws IOException {
            int type = in.read();
            if (type < 0) {
                throw new EOFException("the store closed the connection");
            }
            String line = line();
            switch (type) {
                case '+':
                    return line;
                case '-':
                    return new ServerError(line);
                case ':':
                    return parseLong(line);
                case '$': {
                    long n = parseLong(line);
                    if (n < 0) {
                        return null;
                    }
                    if (n > MAX_VALUE_BYTES) {
                        throw new IOException("a reply of " + n + " bytes is beyond any value this server stores");
                    }
                    byte[] b = in.readNBytes((int) n);
                    if (b.length != n || in.read() != '\r' || in.read() != '\n') {
                        throw new EOFException("the store closed the connection inside a reply");
                    }
                    return b;
                }
                case '*': {
                    long n = parseLong(line);
                    if (n < 0) {
                        return null;
                    }
                    List<Object> items = new ArrayList<>();
                    for (long i = 0; i < n; i++) {
                        items.add(read());
                    }
                    return items;
                }
                default:
                    throw new IOException("not a RESP2 reply (first byte " + type + "): is this port a Redis or Valkey server?");
            }
        }

        private static long parseLong(String s) throws IOException {
            try {
                return Long.parseLong(s);
            } catch (NumberFormatException e) {
                throw new IOException("malformed RESP2 number '" + s + "'");
            }
        }

        private String line() throws IOException {
            StringBuilder sb = new StringBuilder();
            while (true) {
                int b = in.read();
                if (b < 0) {
                    throw new EOFException("the store closed the connection inside a reply");
                }
                if (b == '\r') {
                    if (in.read() != '\n') {
                        throw new IOException("malformed RESP2 line");
                    }
                    return sb.toString();
                }
                if (sb.length() > 1 << 16) {
                    throw new IOException("RESP2 line too long: is this port a Redis or Valkey server?");
                }
                sb.append((char) b);
            }
        }

        void close() {
            try {
                socket.close();
            } catch (IOException ignored) {
                // nothing left to do with a broken socket
            }
        }
    }
}
