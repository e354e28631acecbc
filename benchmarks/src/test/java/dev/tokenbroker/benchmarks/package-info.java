/**
 * JMH benchmarks of the broker's hot path. Not part of the library; run with {@code
 * benchmarks/run.sh}.
 */
@NullMarked
package dev.tokenbroker.benchmarks;

import org.jspecify.annotations.NullMarked;
