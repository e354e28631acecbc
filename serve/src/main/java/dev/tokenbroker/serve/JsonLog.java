package dev.tokenbroker.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One JSON object per line, through SLF4J: broker events on {@code dev.tokenbroker.serve.events},
 * requests on {@code dev.tokenbroker.serve.access}, the server's own life on {@code
 * dev.tokenbroker.serve}. Callers pass only what may be logged: ids, reason codes, status codes,
 * messages the core made safe (events never carry a token) — never a token, secret or header.
 */
final class JsonLog {
  static final ObjectMapper JSON = new ObjectMapper();

  private final Logger logger;
  private final Clock clock;

  JsonLog(String name, Clock clock) {
    this.logger = LoggerFactory.getLogger(name);
    this.clock = clock;
  }

  /** Starts a line: {@code {"ts": …, "event": event}}. */
  Line line(String event) {
    return new Line(event);
  }

  /** A log line being built; {@link #info()} or {@link #warn()} writes it. */
  final class Line {
    private final Map<String, Object> fields = new LinkedHashMap<>();

    Line(String event) {
      fields.put("ts", clock.instant().toString());
      fields.put("event", event);
    }

    Line with(String name, @Nullable Object value) {
      if (value != null) {
        fields.put(
            name, value instanceof Number || value instanceof Boolean ? value : value.toString());
      }
      return this;
    }

    void info() {
      if (logger.isInfoEnabled()) {
        logger.info(text());
      }
    }

    void warn() {
      logger.warn(text());
    }

    String text() {
      try {
        return JSON.writeValueAsString(fields);
      } catch (JsonProcessingException e) {
        return "{\"event\":\"log-failed\"}";
      }
    }
  }
}
