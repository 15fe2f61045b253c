"""The Gradio user interface: one module per tab (`build_<tab>(services)`), plain handlers tested directly."""
