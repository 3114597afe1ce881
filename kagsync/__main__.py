from kagsync.cli import main

main()
