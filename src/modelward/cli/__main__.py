from modelward.cli.main import main

main()
