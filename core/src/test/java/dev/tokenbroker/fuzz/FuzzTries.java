package dev.tokenbroker.fuzz;

import net.jqwik.api.lifecycle.AroundPropertyHook;
import net.jqwik.api.lifecycle.PropagationMode;
import net.jqwik.api.lifecycle.PropertyExecutionResult;
import net.jqwik.api.lifecycle.PropertyExecutor;
import net.jqwik.api.lifecycle.PropertyLifecycleContext;

/**
 * Sets the number of tries of every jqwik property from the system property {@value #PROPERTY}:
 * {@code ./mvnw verify -Dtokenbroker.fuzz.tries=100000} fuzzes far longer than the default run.
 * Registered globally through {@code META-INF/services/net.jqwik.api.lifecycle.LifecycleHook} (in
 * core's test jar, which the provider and store modules use), so a property needs no annotation.
 * Without the system property each property keeps its own {@code tries}.
 */
public final class FuzzTries implements AroundPropertyHook {
  /** The system property giving the tries per property. */
  public static final String PROPERTY = "tokenbroker.fuzz.tries";

  @Override
  public PropertyExecutionResult aroundProperty(
      PropertyLifecycleContext context, PropertyExecutor property) {
    Integer tries = tries();
    if (tries != null) {
      context.attributes().setTries(tries);
    }
    return property.execute();
  }

  /** The tries asked for on the command line, or null. */
  public static Integer tries() {
    String value = System.getProperty(PROPERTY, "").trim();
    if (value.isEmpty()) {
      return null;
    }
    try {
      int tries = Integer.parseInt(value);
      return tries > 0 ? tries : null;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(PROPERTY + " must be a positive whole number", e);
    }
  }

  @Override
  public PropagationMode propagateTo() {
    return PropagationMode.ALL_DESCENDANTS;
  }
}
