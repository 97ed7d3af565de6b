#!/usr/bin/env bash
# The JVM side of the set-up (step 4 of scripts/setup.sh), also runnable alone:
#   1. the pinned jars of conf/jvm/pom.xml (Delta, hadoop-aws + AWS SDK, JDBC) from Maven Central;
#   2. the lakehouse's own Delta log store (conf/jvm/logstore: commits with a conditional PUT,
#      so several Spark drivers can write one table) built into $LAKEHOUSE_STATE_DIR/jvm-build;
#   3. the Thrift server's JDBC logins and analyst access rule (conf/jvm/thrift-auth, javac);
#   4. all written to $LAKEHOUSE_STATE_DIR/jvm.classpath, which include/spark.py reads.
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
  # The Thrift server's JDBC logins and the analyst's access rule (conf/jvm/thrift-auth),
  # compiled against the pyspark install's own jars (the Spark and Hive classes it runs with).
  auth_dir="$LAKEHOUSE_STATE_DIR/jvm-build/thrift-auth"
  step "   building the Thrift server's logins (conf/jvm/thrift-auth) into $auth_dir"
  spark_jars="$("$LAKEHOUSE_VENV/bin/python" -c 'import os, pyspark; print(os.path.join(os.path.dirname(pyspark.__file__), "jars"))')"
  rm -rf "$auth_dir" && mkdir -p "$auth_dir/classes"
  find conf/jvm/thrift-auth/src -name '*.java' -print0 | LC_ALL=C sort -z |
    xargs -0 javac --release 17 -Xlint:all,-path -Werror -cp "$spark_jars/*" -d "$auth_dir/classes"
  auth_jar="$auth_dir/lakehouse-thrift-auth.jar"
  jar cf "$auth_jar" -C "$auth_dir/classes" .
  printf '%s:%s:%s' "$(cat "$deps")" "$jar" "$auth_jar" >"$listing.tmp" && mv "$listing.tmp" "$listing"
  echo "$inputs_sha" >"$listing.sha"
fi
step "   $(tr ':' '\n' <"$listing" | grep -c .) jars on the classpath"
