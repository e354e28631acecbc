/**
 * Micrometer metrics for the token broker: {@link dev.tokenbroker.micrometer.TokenBrokerMetrics}, a
 * {@code MeterBinder} and {@code TokenListener}. No Spring.
 */
@NullMarked
package dev.tokenbroker.micrometer;

import org.jspecify.annotations.NullMarked;
