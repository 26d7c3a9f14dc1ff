#!/bin/sh
# The builder pattern: two images, and a container in between to carry the binary across.
set -e

echo "--> 1/4 build the SDK image"
docker image build -t welcome-builder:v1 -f Dockerfile.build .

echo "--> 2/4 copy the binary out of a stopped container"
docker container create --name welcome-extract welcome-builder:v1
docker container cp welcome-extract:/app/welcome ./welcome
docker container rm -f welcome-extract

echo "--> 3/4 build the runtime image from scratch"
docker image build -t welcome-runtime:v1 .

echo "--> 4/4 tidy up the copied binary"
rm ./welcome
