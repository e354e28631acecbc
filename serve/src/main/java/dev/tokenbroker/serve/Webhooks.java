package dev.tokenbroker.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.Health;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenEvent;
import dev.tokenbroker.TokenListener;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.jspecify.annotations.Nullable;

/**
 * Sends a signed POST to every configured receiver when a connection needs re-authorization and
 * when it recovers, and writes one JSON log line per broker event.
 *
 * <h2>Once across instances</h2>
 *
 * The broker announces {@link TokenEvent.Type#REAUTHORIZATION_REQUIRED} only on the instance whose
 * compare-and-set moved the shared health record to that state, so every {@code serve} sharing a
 * store hears of a given verdict once, on one instance, and only that one sends it. A recovery is
 * {@link TokenEvent.Type#RECOVERED} from {@code REAUTHORIZATION_REQUIRED}: core sends it on the one
 * instance whose renewal or authorization cleared the shared health record, so it too is sent once,
 * even when the verdict was recorded by another instance. A recovery made outside {@code serve}
 * (the CLI's {@code connect} in another process) emits no event in any {@code serve}: it is logged
 * as {@code recovered-elsewhere} by each instance that had seen the verdict (the shared health it
 * reads every {@linkplain ServeConfig#healthWatch() health-watch} interval) and sent by none.
 *
 * <h2>What is sent</h2>
 *
 * <pre>
 * POST url
 * Content-Type: application/json
 * X-Tokenbroker-Event: reauthorization-required | recovered
 * X-Tokenbroker-Delivery: 7f1c…   (the same across the retries of one delivery)
 * X-Tokenbroker-Timestamp: 1764748800   (Unix seconds, new on every attempt)
 * X-Tokenbroker-Signature: sha256=HEX(HMAC-SHA256(secret, timestamp + "." + body))
 *
 * {"type":"reauthorization-required","connection":"cafe24:mymall","provider":"cafe24",
 *  "reason":"refresh-token-rejected","detail":"…","since":"…","at":"…","delivery":"7f1c…"}
 * </pre>
 *
 * Never a token. A 2xx answer ends a delivery; a network error, 408, 429 or 5xx is retried with
 * exponential backoff (1 s doubling to 5 min by default, {@value #DEFAULT_ATTEMPTS} attempts); any
 * other answer is logged and dropped. Delivery runs on a thread of its own, never the broker's.
 */
final class Webhooks implements TokenListener, AutoCloseable {
  static final int DEFAULT_ATTEMPTS = 8;
  private static final MediaType JSON_TYPE = MediaType.get("application/json");

  private final Clock clock;
  private final List<Receiver> receivers;
  private final JsonLog events;
  private final JsonLog log;
  private final OkHttpClient http;
  private final ScheduledExecutorService executor;
  private final Duration initialBackoff;
  private final Duration maxBackoff;
  private final int attempts;
  private final String instance;

  /** Connections this instance knows to need re-authorization, with the reason code. */
  private final Map<ConnectionId, String> needsPerson = new ConcurrentHashMap<>();

  private final AtomicLong delivered = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private final AtomicInteger inFlight = new AtomicInteger();
  private volatile @Nullable TokenBroker broker;

  record Receiver(String url, byte[] secret) {}

  Webhooks(
      Clock clock,
      List<Receiver> receivers,
      OkHttpClient http,
      Duration initialBackoff,
      Duration maxBackoff,
      int attempts,
      String instance) {
    this.clock = clock;
    this.receivers = List.copyOf(receivers);
    this.events = new JsonLog("dev.tokenbroker.serve.events", clock);
    this.log = new JsonLog("dev.tokenbroker.serve", clock);
    // Our own retries, with backoff: OkHttp must not re-send on its own.
    this.http = http.newBuilder().retryOnConnectionFailure(false).build();
    this.initialBackoff = initialBackoff;
    this.maxBackoff = maxBackoff;
    this.attempts = attempts;
    this.instance = instance;
    ScheduledThreadPoolExecutor ex =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "tokenbroker-serve-webhooks");
              t.setDaemon(true);
              return t;
            });
    ex.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    this.executor = ex;
  }

  /** Set once the broker this listener was registered with is built. */
  void attach(TokenBroker broker) {
    this.broker = broker;
  }

  @Override
  public void onEvent(TokenEvent event) {
    // Called on a broker thread: log, note, hand delivery to our own thread, return.
    events
        .line(event.type().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'))
        .with("connection", event.connection())
        .with("message", event.message())
        .with("instance", instance)
        .info();
    ConnectionId id = event.connection();
    switch (event.type()) {
      case REAUTHORIZATION_REQUIRED:
        needsPerson.put(id, "");
        submit(() -> send("reauthorization-required", id, event, null));
        break;
      case RECOVERED:
        // Sent by core on the one instance whose write cleared the shared health record.
        String reason = needsPerson.remove(id);
        if (event.message().contains("was " + Health.State.REAUTHORIZATION_REQUIRED)) {
          String from = reason != null ? reason : "";
          submit(() -> send("recovered", id, event, from));
        }
        break;
      default:
        break;
    }
  }

  /**
   * Reads every connection's shared health, to learn of verdicts recorded by other instances (so
   * that a recovery made here is announced) and of recoveries made elsewhere.
   */
  void watch() {
    TokenBroker b = broker;
    if (b == null) {
      return;
    }
    for (ConnectionId id : b.connections()) {
      Health h;
      try {
        h = b.health(id);
      } catch (RuntimeException e) {
        continue;
      }
      if (h.state() == Health.State.REAUTHORIZATION_REQUIRED) {
        needsPerson.put(id, h.reasonCode() == null ? "" : h.reasonCode());
      } else if (h.state() == Health.State.ACTIVE && needsPerson.remove(id) != null) {
        log.line("recovered-elsewhere")
            .with("connection", id)
            .with("note", "renewed or authorized by another process; no webhook from here")
            .info();
      }
    }
  }

  /** Connections this instance knows to need re-authorization. */
  Set<ConnectionId> knownNeedingPerson() {
    return Set.copyOf(needsPerson.keySet());
  }

  private void submit(Runnable task) {
    if (receivers.isEmpty()) {
      return;
    }
    inFlight.incrementAndGet();
    try {
      executor.execute(
          () -> {
            try {
              task.run();
            } finally {
              inFlight.decrementAndGet();
            }
          });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      inFlight.decrementAndGet();
    }
  }

  private void send(String type, ConnectionId id, TokenEvent event, @Nullable String previous) {
    Map<String, Object> body = new LinkedHashMap<>();
    String delivery = UUID.randomUUID().toString();
    body.put("type", type);
    body.put("connection", id.toString());
    body.put("provider", id.provider());
    TokenBroker b = broker;
    if (type.equals("reauthorization-required")) {
      Health h = null;
      try {
        h = b == null ? null : b.health(id);
      } catch (RuntimeException e) {
        // the event alone then
      }
      String reason = h == null ? null : h.reasonCode();
      if (reason != null) {
        needsPerson.put(id, reason);
      }
      body.put("reason", reason);
      body.put("detail", event.message());
      body.put("since", h == null ? event.at().toString() : h.since().toString());
      body.put("action", "tokenbroker connect " + id);
    } else {
      body.put("previous_reason", previous == null || previous.isEmpty() ? null : previous);
    }
    body.put("at", event.at().toString());
    body.put("instance", instance);
    body.put("delivery", delivery);
    byte[] bytes;
    try {
      bytes = JsonLog.JSON.writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      return;
    }
    for (Receiver r : receivers) {
      attempt(r, type, id, delivery, bytes, 1);
    }
  }

  private void attempt(
      Receiver r, String type, ConnectionId id, String delivery, byte[] body, int attempt) {
    String timestamp = Long.toString(clock.instant().getEpochSecond());
    Request request =
        new Request.Builder()
            .url(r.url())
            .post(RequestBody.create(body, JSON_TYPE))
            .header("User-Agent", "tokenbroker-serve")
            .header("X-Tokenbroker-Event", type)
            .header("X-Tokenbroker-Delivery", delivery)
            .header("X-Tokenbroker-Timestamp", timestamp)
            .header("X-Tokenbroker-Signature", "sha256=" + sign(r.secret(), timestamp, body))
            .build();
    int status = -1;
    String error = null;
    try (Response response = http.newCall(request).execute()) {
      status = response.code();
    } catch (IOException e) {
      error = e.getClass().getSimpleName();
    }
    boolean ok = status >= 200 && status < 300;
    boolean retryable = status < 0 || status == 408 || status == 429 || status >= 500;
    JsonLog.Line line =
        log.line(ok ? "webhook-delivered" : "webhook-failed")
            .with("type", type)
            .with("connection", id)
            .with("delivery", delivery)
            .with("attempt", attempt)
            .with("status", status < 0 ? null : status)
            .with("error", error);
    if (ok) {
      delivered.incrementAndGet();
      line.info();
      return;
    }
    if (!retryable || attempt >= attempts) {
      failed.incrementAndGet();
      line.with("gave_up", true).warn();
      return;
    }
    long delay = backoff(attempt);
    line.with("retry_in_ms", delay).warn();
    inFlight.incrementAndGet();
    try {
      executor.schedule(
          () -> {
            try {
              attempt(r, type, id, delivery, body, attempt + 1);
            } finally {
              inFlight.decrementAndGet();
            }
          },
          delay,
          TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      inFlight.decrementAndGet();
    }
  }

  /** Exponential backoff: initial × 2^(attempt-1), capped. */
  long backoff(int attempt) {
    long initial = initialBackoff.toMillis();
    long d = attempt >= 31 ? Long.MAX_VALUE : initial << Math.max(0, attempt - 1);
    return d < 0 ? maxBackoff.toMillis() : Math.min(d, maxBackoff.toMillis());
  }

  /** HEX(HMAC-SHA256(secret, timestamp + "." + body)). */
  static String sign(byte[] secret, String timestamp, byte[] body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret, "HmacSHA256"));
      mac.update(timestamp.getBytes(StandardCharsets.US_ASCII));
      mac.update((byte) '.');
      return HexFormat.of().formatHex(mac.doFinal(body));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 unavailable", e);
    }
  }

  long delivered() {
    return delivered.get();
  }

  long failed() {
    return failed.get();
  }

  /** Deliveries and retries still queued or running. */
  int pending() {
    return inFlight.get();
  }

  /** Lets deliveries under way finish for up to {@code grace}, then drops scheduled retries. */
  void close(Duration grace) {
    executor.shutdown();
    try {
      executor.awaitTermination(grace.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    List<Runnable> dropped = new ArrayList<>(executor.shutdownNow());
    if (!dropped.isEmpty()) {
      log.line("webhook-retries-dropped").with("count", dropped.size()).warn();
    }
  }

  @Override
  public void close() {
    close(Duration.ofSeconds(5));
  }
}
