package dev.tokenbroker.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokenbroker.ChildJvm;
import dev.tokenbroker.testkit.OAuth2Emulator;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The hand-written way to share tokens between processes, as a contrast in {@link ClusterReport}:
 * one JVM of a cluster whose threads each read {@code tokens.json} on every call, refresh when the
 * access token is due, and write the answer back. No lock of any kind, neither between the threads
 * nor between the JVMs, and a plain {@link Files#writeString} (truncate, then write). It renews at
 * the same point as the broker's cluster child (300 ms before expiry) and calls at the same pace
 * (every 20 ms per thread), so the two runs differ only in how the token is shared.
 *
 * <p>Arguments: {@code <emulator-url> <threads> <tokens.json>}. Prints {@code READY}, waits for
 * {@code GO <deadline-millis>} on standard input, then lets its threads ask for the access token
 * until the deadline, printing {@code ATTEMPT <millis>} for each refresh request it sends and
 * {@code REFRESHED <millis>} for each refresh that got new tokens. At the end it prints {@code
 * ERRORS <count> <kind>} per kind of caller error and {@code DONE <calls> <errors>}. Tokens are
 * never printed.
 */
public final class NaiveClusterChild {
  static final String CLIENT = "naive-app";
  static final String SECRET = "naive-secret";
  static final String REDIRECT = "http://127.0.0.1:9/callback";

  /** Refresh this long before expiry, like the broker's cluster child. */
  static final long MARGIN_MILLIS = 300;

  /** A caller error: the file was read between its truncation and its rewrite. */
  static final String UNREADABLE = "reads of a half-written tokens.json";

  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();
  private final URI tokenEndpoint;
  private final Path file;

  private NaiveClusterChild(String emulatorUrl, Path file) {
    this.tokenEndpoint = URI.create(emulatorUrl + OAuth2Emulator.TOKEN_PATH);
    this.file = file;
  }

  static ChildJvm start(String emulatorUrl, int threads, Path tokens) throws IOException {
    return ChildJvm.start(
        NaiveClusterChild.class, emulatorUrl, Integer.toString(threads), tokens.toString());
  }

  /** What the naive client keeps in {@code tokens.json}, written the plain way. */
  static void write(Path file, String accessToken, String refreshToken, long expiresAtMillis)
      throws IOException {
    ObjectNode json = JSON.createObjectNode();
    json.put("access_token", accessToken);
    json.put("refresh_token", refreshToken);
    json.put("expires_at", expiresAtMillis);
    Files.writeString(file, JSON.writeValueAsString(json));
  }

  /** A failed call, of a kind the report counts. */
  private static final class CallFailed extends Exception {
    private static final long serialVersionUID = 1L;

    CallFailed(String kind) {
      super(kind, null, false, false);
    }
  }

  /** The naive client: read the file, refresh if due, write the file. */
  String accessToken() throws IOException, InterruptedException, CallFailed {
    JsonNode stored;
    try {
      stored = JSON.readTree(Files.readString(file));
    } catch (IOException e) {
      throw new CallFailed(UNREADABLE); // caught half-written by another thread or process
    }
    if (stored == null || !stored.hasNonNull("expires_at")) {
      throw new CallFailed(UNREADABLE);
    }
    long now = System.currentTimeMillis();
    if (now < stored.get("expires_at").asLong() - MARGIN_MILLIS) {
      return stored.get("access_token").asText();
    }
    String form =
        "grant_type=refresh_token&refresh_token="
            + URLEncoder.encode(stored.get("refresh_token").asText(), StandardCharsets.UTF_8);
    String basic =
        Base64.getEncoder()
            .encodeToString((CLIENT + ":" + SECRET).getBytes(StandardCharsets.UTF_8));
    HttpRequest request =
        HttpRequest.newBuilder(tokenEndpoint)
            .timeout(Duration.ofSeconds(10))
            .header("Authorization", "Basic " + basic)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .POST(HttpRequest.BodyPublishers.ofString(form))
            .build();
    say("ATTEMPT " + now);
    HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
    JsonNode body = JSON.readTree(response.body());
    if (response.statusCode() != 200) {
      throw new CallFailed(body.path("error").asText("HTTP " + response.statusCode()));
    }
    long issued = System.currentTimeMillis();
    String access = body.get("access_token").asText();
    write(
        file,
        access,
        body.get("refresh_token").asText(),
        issued + body.get("expires_in").asLong() * 1000);
    say("REFRESHED " + issued);
    return access;
  }

  public static void main(String[] args) throws Exception {
    String emulator = args[0];
    int threads = Integer.parseInt(args[1]);
    NaiveClusterChild client = new NaiveClusterChild(emulator, Path.of(args[2]));
    say("READY");
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String go = in.readLine();
    if (go == null || !go.startsWith("GO ")) {
      Runtime.getRuntime().halt(4);
    }
    watchParent(in);
    long deadline = Long.parseLong(go.substring(3));

    AtomicLong calls = new AtomicLong();
    Map<String, LongAdder> errors = new ConcurrentHashMap<>();
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      Thread w =
          new Thread(
              () -> {
                while (System.currentTimeMillis() < deadline) {
                  try {
                    try {
                      client.accessToken();
                      calls.incrementAndGet();
                    } catch (CallFailed e) {
                      errors.computeIfAbsent(e.getMessage(), k -> new LongAdder()).increment();
                    } catch (IOException | RuntimeException e) {
                      errors
                          .computeIfAbsent(e.getClass().getSimpleName(), k -> new LongAdder())
                          .increment();
                    }
                    // The same pace after a failure: an application calls on its own schedule.
                    Thread.sleep(20);
                  } catch (InterruptedException e) {
                    return;
                  }
                }
              });
      w.start();
      workers.add(w);
    }
    for (Thread w : workers) {
      w.join();
    }
    long failed = 0;
    for (Map.Entry<String, LongAdder> e : errors.entrySet()) {
      say("ERRORS " + e.getValue().sum() + " " + e.getKey());
      failed += e.getValue().sum();
    }
    say("DONE " + calls.get() + " " + failed);
    System.exit(0);
  }

  private static void say(String line) {
    synchronized (System.out) {
      System.out.println(line);
      System.out.flush();
    }
  }

  private static void watchParent(BufferedReader in) {
    Thread watchdog =
        new Thread(
            () -> {
              try {
                while (in.readLine() != null) {
                  // ignore input
                }
              } catch (IOException e) {
                // fall through
              }
              Runtime.getRuntime().halt(4);
            },
            "parent-watchdog");
    watchdog.setDaemon(true);
    watchdog.start();
  }
}
