// A layer's link check (meson.build, docs/decisions.md): linked with every object of one layer
// (link_whole) and only the layers under it, so a call from the layer into a layer above it is an
// undefined reference and the build fails. It is never run.
int main() { return 0; }
