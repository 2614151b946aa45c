package dev.think4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.think4j.Think4jException;
import dev.think4j.kv.CompressedKvCache;
import dev.think4j.kv.session.SessionFile;
import dev.think4j.kv.session.SessionFiles;
import dev.think4j.model.Model;
import io.javalin.http.Context;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.regex.Pattern;

/**
 * llama.cpp-style slot endpoints over the server's kept caches (the prefix cache: finished
 * sequences' caches with the exact ids they hold). {@code GET /slots} lists them; {@code POST
 * /slots/{id}?action=save|restore|erase} with {@code {"filename": "..."}} saves one as a session
 * file under {@code --slot-save-path}, restores a file as a kept cache (so the next request whose
 * prompt extends the saved ids skips their prefill, here or on another server of the same model),
 * or frees one. File names are plain names inside that directory: anything with a path in it is a 400.
 * Without {@code --slot-save-path} but with {@code --kv-store}, the sessions go to the shared store
 * instead (under the model's fingerprint, for {@code --kv-store-ttl}), so a session saved on one
 * replica can be restored on any other.
 */
final class SlotEndpoints {
    /** Letters, digits, '.', '_' and '-', not starting with '.': no separators, no "..", no hidden files. */
    private static final Pattern FILE_NAME = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}");

    private final Scheduler scheduler;
    private final Model model;
    private final Path dir;
    private final ObjectMapper json;
    /** Where sessions go without a directory, or null. */
    private final KvStore store;
    private final java.time.Duration storeTtl;

    SlotEndpoints(Scheduler scheduler, Model model, Path dir, ObjectMapper json) {
        this(scheduler, model, dir, json, null, null);
    }

    SlotEndpoints(Scheduler scheduler, Model model, Path dir, ObjectMapper json, KvStore store, java.time.Duration storeTtl) {
        this.scheduler = scheduler;
        this.model = model;
        this.dir = dir == null ? null : dir.toAbsolutePath().normalize();
        this.json = json;
        this.store = dir == null ? store : null;
        this.storeTtl = storeTtl;
        if (dir != null || store != null) {
            // the fingerprint hashes the GGUF's metadata once; done now, not on the scheduler thread at the first save
            dev.think4j.kv.session.ModelIdentity.of(model);
        }
    }

    /** The store key of a saved session: names are per model, so replicas of other models never see them. */
    private String storeKey(String name) {
        return "think4j:slot:" + dev.think4j.kv.session.ModelIdentity.of(model).fingerprint() + ":" + name;
    }

    void list(Context ctx) throws Exception {
        ArrayNode out = json.createArrayNode();
        for (Scheduler.Slot s : scheduler.slots()) {
            out.addObject().put("id", s.id()).put("kv", s.kvSpec()).put("n_tokens", s.tokens()).put("kv_bytes", s.bytes());
        }
        ctx.contentType("application/json").result(json.writeValueAsString(out));
    }

    void action(Context ctx) throws Exception {
        long id = slotId(ctx.pathParam("id"));
        String action = ctx.queryParam("action");
        if (action == null) {
            throw ApiException.invalid("missing ?action= (save, restore or erase)", "action", "missing_action");
        }
        ObjectNode out = switch (action) {
            case "save" -> save(id, fileName(ctx));
            case "restore" -> restore(id, fileName(ctx));
            case "erase" -> erase(id);
            default -> throw ApiException.invalid("unknown action '" + action + "': use save, restore or erase", "action",
                    "invalid_action");
        };
        ctx.contentType("application/json").result(json.writeValueAsString(out));
    }

    private static long slotId(String raw) {
        try {
            long id = Long.parseLong(raw);
            if (id >= 0) {
                return id;
            }
        } catch (NumberFormatException ignored) {
            // falls through to the 400
        }
        throw ApiException.invalid("slot id must be a non-negative integer, got '" + raw + "'", "id", "invalid_slot_id");
    }

    private String fileName(Context ctx) {
        if (dir == null && store == null) {
            throw new ApiException(501, "invalid_request_error", "saving and restoring slots is off: start the server with "
                    + "--slot-save-path DIR (or --kv-store URI)", null, "not_supported");
        }
        JsonNode body;
        try {
            body = json.readTree(ctx.body());
        } catch (IOException e) {
            throw ApiException.invalid("the body must be JSON like {\"filename\": \"chat.t4j\"}", null, "invalid_json");
        }
        JsonNode f = body == null ? null : body.get("filename");
        if (f == null || !f.isTextual()) {
            throw ApiException.invalid("missing \"filename\" (a plain file name inside --slot-save-path)", "filename",
                    "missing_filename");
        }
        String name = f.asText();
        if (!FILE_NAME.matcher(name).matches() || name.contains("..")) {
            throw ApiException.invalid("invalid filename '" + name.replaceAll("\\p{Cntrl}", "?") + "': use a plain name of letters,"
                    + " digits, '.', '_' and '-' (no directories)", "filename", "invalid_filename");
        }
        return name;
    }

    private ObjectNode save(long id, String name) {
        long t0 = System.nanoTime();
        byte[] bytes = scheduler.saveSlot(id);
        SessionFile check = SessionFiles.fromBytes(bytes, name);
        if (dir == null) {
            try {
                store.put(storeKey(name), bytes, storeTtl);
            } catch (KvStore.KvStoreException e) {
                throw new ApiException(503, "server_error", "could not save " + name + " in the kv store: " + e.getMessage(), null,
                        "kv_store_failed", Scheduler.RETRY_AFTER_SECONDS);
            }
            return saved(id, name, check, bytes, t0);
        }
        Path target = dir.resolve(name);
        Path tmp = null;
        try {
            tmp = Files.createTempFile(dir, "." + name, ".tmp");
            Files.write(tmp, bytes);
            try {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw ApiException.internal("could not write " + name + " in the slot directory: " + e.getClass().getSimpleName());
        } finally {
            deleteQuietly(tmp);
        }
        return saved(id, name, check, bytes, t0);
    }

    private ObjectNode saved(long id, String name, SessionFile check, byte[] bytes, long t0) {
        ObjectNode out = json.createObjectNode();
        out.put("id_slot", id).put("filename", name).put("n_saved", check.header().tokenCount()).put("n_written", bytes.length)
                .put("kv", check.header().kvSpec());
        out.putObject("timings").put("save_ms", (System.nanoTime() - t0) / 1e6);
        return out;
    }

    private ObjectNode restore(long id, String name) {
        long t0 = System.nanoTime();
        byte[] bytes;
        try {
            if (dir == null) {
                bytes = store.get(storeKey(name));
                if (bytes == null) {
                    throw new ApiException(404, "invalid_request_error", "no session '" + name + "' of this model in the kv store"
                            + " (never saved, or older than --kv-store-ttl)", "filename", "file_not_found");
                }
            } else {
                bytes = Files.readAllBytes(dir.resolve(name));
            }
        } catch (KvStore.KvStoreException e) {
            throw new ApiException(503, "server_error", "could not read " + name + " from the kv store: " + e.getMessage(), null,
                    "kv_store_failed", Scheduler.RETRY_AFTER_SECONDS);
        } catch (NoSuchFileException e) {
            throw new ApiException(404, "invalid_request_error", "no session file '" + name + "' in the slot directory",
                    "filename", "file_not_found");
        } catch (IOException | OutOfMemoryError e) {
            throw ApiException.internal("could not read " + name + " in the slot directory: " + e.getClass().getSimpleName());
        }
        SessionFile f;
        CompressedKvCache cache;
        try {
            f = SessionFiles.fromBytes(bytes, "session file '" + name + "'");
            cache = f.newCache(model);
        } catch (Think4jException e) {
            throw ApiException.invalid(e.getMessage(), "filename", "invalid_session_file");
        }
        Scheduler.Slot s = scheduler.restoreSlot(id, f.tokens(), cache);
        ObjectNode out = json.createObjectNode();
        out.put("id_slot", s.id()).put("filename", name).put("n_restored", s.tokens()).put("n_read", bytes.length)
                .put("kv", s.kvSpec());
        out.putObject("timings").put("restore_ms", (System.nanoTime() - t0) / 1e6);
        return out;
    }

    private ObjectNode erase(long id) {
        Scheduler.Slot s = scheduler.eraseSlot(id);
        return json.createObjectNode().put("id_slot", id).put("n_erased", s.tokens());
    }

    private static void deleteQuietly(Path p) {
        if (p != null) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // moved already, or the directory went away
            }
        }
    }
}
