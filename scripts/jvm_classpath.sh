#!/usr/bin/env bash
# The JVM side of the set-up (step 4 of scripts/setup.sh), also runnable alone:
#   1. the pinned jars of conf/jvm/pom.xml (Delta, hadoop-aws + AWS SDK, JDBC) from Maven Central;
#   2. the lakehouse's own Delta log store (conf/jvm/logstore: commits with a conditional PUT,
#      so several Spark drivers can write one table) built into $LAKEHOUSE_STATE_DIR/jvm-build;
#   3. both written to $LAKEHOUSE_STATE_DIR/jvm.classpath, which include/spark.py reads.
# Skipped when the poms and the log store's sources are unchanged and every listed jar exists.
# All Maven plugins are pinned: once they are in ~/.m2, LAKEHOUSE_MAVEN_OFFLINE=1 builds with -o.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
. scripts/lib.sh

listing="$LAKEHOUSE_STATE_DIR/jvm.classpath"
build_dir="$LAKEHOUSE_STATE_DIR/jvm-build/logstore"
inputs_sha="$(find conf/jvm -name target -prune -o -type f \( -name pom.xml -o -name '*.java' \) -print |
  LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16)"

if [ "$(cat "$listing.sha" 2>/dev/null)" = "$inputs_sha" ] &&
   "$LAKEHOUSE_VENV/bin/python" -c 'from include.spark import jvm_classpath; from include.settings import load_settings; jvm_classpath(load_settings())' 2>/dev/null; then
  step "   up to date"
else
  mvn_flags=(-q -B --no-transfer-progress)
  [ "${LAKEHOUSE_MAVEN_OFFLINE:-0}" = 1 ] && mvn_flags+=(-o)
  mkdir -p "$LAKEHOUSE_STATE_DIR"
  deps="$(mktemp)"
  trap 'rm -f "$deps"' EXIT
  mvn "${mvn_flags[@]}" -f conf/jvm/pom.xml dependency:build-classpath -Dmdep.outputFile="$deps"
  step "   building the Delta log store (conf/jvm/logstore) into $build_dir"
  mvn "${mvn_flags[@]}" -f conf/jvm/logstore/pom.xml package -DskipTests \
    -Dlakehouse.build.dir="$build_dir"
  jar="$build_dir/lakehouse-delta-logstore.jar"
  [ -f "$jar" ] || die "the log store build did not produce $jar"
  printf '%s:%s' "$(cat "$deps")" "$jar" >"$listing.tmp" && mv "$listing.tmp" "$listing"
  echo "$inputs_sha" >"$listing.sha"
fi
step "   $(tr ':' '\n' <"$listing" | grep -c .) jars on the classpath"
