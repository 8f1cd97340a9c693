#!/bin/sh
# The image's entry point: `dems <role> [options]` runs one DEMS process. One image serves every role, so the
# role is the container's argument (compose `command:`, Kubernetes `args:`). exec: node becomes the container's
# main process and gets SIGTERM itself, which starts its graceful stop.
usage='usage: dems events|ticketing|engagement|gateway [--create-tables]'
case "${1:-}" in
  events | ticketing | engagement | gateway)
    role=$1
    shift
    exec node "/app/services/$role/dist/main.js" "$@"
    ;;
  -h | --help)
    echo "$usage"
    ;;
  '')
    echo "dems: no role given; $usage" >&2
    exit 64
    ;;
  *)
    echo "dems: unknown role '$1'; $usage" >&2
    exit 64
    ;;
esac
