package dev.tokenbroker.spring;

import dev.tokenbroker.ConfigurationException;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * Turns a start-up failure caused by a bad {@code tokenbroker.*} setting into Spring Boot's
 * "APPLICATION FAILED TO START" report naming the connection and the setting (core's message, which
 * never contains a setting's value).
 */
final class TokenBrokerFailureAnalyzer extends AbstractFailureAnalyzer<ConfigurationException> {
  @Override
  protected FailureAnalysis analyze(Throwable rootFailure, ConfigurationException cause) {
    String where =
        (cause.connection() == null ? "" : "connection " + cause.connection() + ", ")
            + (cause.setting() == null ? "tokenbroker.*" : "setting '" + cause.setting() + "'");
    String action =
        cause.connection() == null
            ? "Fix " + where + " in your tokenbroker.* properties."
            : "Fix "
                + where
                + " under tokenbroker.connections.\"["
                + cause.connection()
                + "]\" (or the app it names under tokenbroker.apps).";
    return new FailureAnalysis(
        "The token broker could not be built: " + cause.getMessage(), action, cause);
  }
}
